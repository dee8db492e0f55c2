"""Which values are secrets, so that tool output never carries them to Claude."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 8  # shorter values match ordinary text too often to be hidden safely

# A variable holds a credential when a word of its name says so: ANTHROPIC_API_KEY,
# GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, DB_PASSWORD, NPMTOKEN. A prefix
# alone says nothing: AWS_REGION and CODY_BATCH_HOST hold ordinary text ("us-east-1",
# "127.0.0.1"), and hiding that corrupts every file that contains it.
_EXACT_WORDS = frozenset({"KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PASSPHRASE"})
_WORD_ENDINGS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD")
_WORD = re.compile(r"[A-Z0-9]+")


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return any(word in _EXACT_WORDS or word.endswith(_WORD_ENDINGS) for word in _WORD.findall(name.upper()))


def secret_values(known: Iterable[str | None] = ()) -> list[str]:
    """The secrets to hide: `known` ones (the run's key and tokens) and credential variables here, longest first."""
    found = {value for name, value in os.environ.items() if is_secret_name(name)}
    found.update(value for value in known if value)
    return sorted((value for value in found if len(value) >= MIN_SECRET_CHARS), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every one of `secrets` replaced by [REDACTED]."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text

"""JSON parsing that accepts only Unicode text: a `\\ud800` escape alone is not a character."""

from __future__ import annotations

import json
from typing import Any


class NotUnicodeText(ValueError):
    """Valid JSON whose strings hold a lone UTF-16 surrogate (from an escape like `\\ud800`)."""


def load_json_text(text: str | bytes) -> Any:
    """`json.loads`, refusing lone surrogates: no store, path or log can encode them."""
    data = json.loads(text)
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise NotUnicodeText("a string holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text") from None
    return data

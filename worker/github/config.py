"""What the GitHub code is configured with: who talks to the API, where, at what pace; and what it publishes.

Narrowed from the server's settings once, at the composition root (`server/runtime/worker_config.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr


@dataclass(frozen=True)
class GitHubAccess:
    """The API client's token, base URL and pacing."""

    token: SecretStr | None  # None: anonymous access
    api_url: str
    max_wait: float  # longest wait for a rate limit to lift before failing
    write_interval: float  # seconds between content-creating requests of all runs using the token
    pace_dir: Path  # where the default pacer keeps its files (every process of this machine shares them)

    def token_value(self) -> str | None:
        """The token in clear, for authentication and redaction only."""
        return self.token.get_secret_value() if self.token else None


@dataclass(frozen=True)
class GitHubConfig:
    """What the gate and the publisher need besides access: the allowlist, the metadata cache, the commit text."""

    access: GitHubAccess
    allowlist: tuple[str, ...]  # patterns a repository GitHub resolves a location to must match
    metadata_ttl: int  # seconds repository metadata stays cached; 0: not cached
    git_author: str
    public_url: str | None  # base URL of the UI, for the link back in pull-request bodies

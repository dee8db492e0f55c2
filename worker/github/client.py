"""A PyGithub client built from its access: token auth, API base URL, bounded retries, the shared pace."""

from __future__ import annotations

from github import Auth, Github

from core.ports import Pacer
from worker.github.config import GitHubAccess
from worker.github.pacing import FilePacer, GitHubPace
from worker.github.ratelimit import github_retry

TIMEOUT_SECONDS = 30


def github_client(access: GitHubAccess, pace: GitHubPace | None = None) -> Github:
    """A client for `access.api_url`, authenticated when it has a token.

    With `pace`, any backoff GitHub asks of it is shared with every run using the token.
    """
    token = access.token_value()
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=access.api_url.rstrip("/"),
        retry=github_retry(access.max_wait, pace.limited if pace is not None else None),
        timeout=TIMEOUT_SECONDS,
    )


def github_pace(access: GitHubAccess, pacer: Pacer | None = None) -> GitHubPace:
    """The pace of the token's requests; by default shared through files in `access.pace_dir` (this machine)."""
    return GitHubPace(
        pacer or FilePacer(access.pace_dir),
        access.token_value(),
        write_interval=access.write_interval,
        max_wait=access.max_wait,
    )

"""A PyGithub client built from settings: token auth, API base URL, bounded retries, the shared pace."""

from __future__ import annotations

from github import Auth, Github

from core.ports import Pacer
from core.settings import Settings
from worker.github.pacing import FilePacer, GitHubPace
from worker.github.ratelimit import github_retry

TIMEOUT_SECONDS = 30


def github_token(settings: Settings) -> str | None:
    """The GitHub token, or None for anonymous access."""
    return settings.github_token.get_secret_value() if settings.github_token else None


def github_client(settings: Settings, pace: GitHubPace | None = None) -> Github:
    """A client for `settings.github_api_url`, authenticated when GITHUB_TOKEN is set.

    With `pace`, any backoff GitHub asks of it is shared with every run using the token.
    """
    token = github_token(settings)
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=settings.github_api_url.rstrip("/"),
        retry=github_retry(settings.github_max_wait, pace.limited if pace is not None else None),
        timeout=TIMEOUT_SECONDS,
    )


def github_pace(settings: Settings, pacer: Pacer | None = None) -> GitHubPace:
    """The pace of the token's requests; by default shared through files in the data dir (this machine)."""
    return GitHubPace(
        pacer or FilePacer(settings.data_dir.resolve() / "github-pace"),
        github_token(settings),
        write_interval=settings.github_write_interval,
        max_wait=settings.github_max_wait,
    )

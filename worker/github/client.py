"""A PyGithub client built from settings: token auth, API base URL, bounded retries."""

from __future__ import annotations

from github import Auth, Github

from core.settings import Settings
from worker.github.ratelimit import github_retry

TIMEOUT_SECONDS = 30


def github_token(settings: Settings) -> str | None:
    """The GitHub token, or None for anonymous access."""
    return settings.github_token.get_secret_value() if settings.github_token else None


def github_client(settings: Settings) -> Github:
    """A client for `settings.github_api_url`, authenticated when GITHUB_TOKEN is set."""
    token = github_token(settings)
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=settings.github_api_url.rstrip("/"),
        retry=github_retry(settings.github_max_wait),
        timeout=TIMEOUT_SECONDS,
    )

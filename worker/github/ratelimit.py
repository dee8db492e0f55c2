"""Retries for GitHub's REST API: rate limits honoured, every wait bounded."""

from __future__ import annotations

from typing import Any

from github import GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from urllib3.response import BaseHTTPResponse

MAX_RETRIES = 3
SECONDARY_RATE_WAIT = 60.0


class BoundedGithubRetry(GithubRetry):
    """GithubRetry that also gives up when a Retry-After asks for more than `max_rate_limit_wait`.

    GithubRetry bounds waits computed from x-ratelimit-reset and for secondary limits, but urllib3
    sleeps for any Retry-After as given; a worker must fail clearly instead of hanging for an hour.
    """

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any) -> Any:
        response: BaseHTTPResponse | None = kwargs.get("response") or (args[0] if args else None)
        if response is not None and self.max_rate_limit_wait is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_rate_limit_wait:
                raise RateLimitExceededExceedsMaxWait(
                    response.status, {"message": f"Retry-After {wait:.0f}s"}, dict(response.headers), wait=wait
                )
        return super().increment(method, url, *args, **kwargs)


def github_retry(max_wait: float) -> BoundedGithubRetry:
    """The retry policy: 403/429 rate limits and 5xx, a few times, never waiting over `max_wait`."""
    return BoundedGithubRetry(
        total=MAX_RETRIES,
        backoff_factor=0.5,
        backoff_max=max(1.0, max_wait),
        secondary_rate_wait=min(SECONDARY_RATE_WAIT, max_wait),
        max_rate_limit_wait=max_wait,
        status_forcelist=[429, *range(500, 600)],
    )

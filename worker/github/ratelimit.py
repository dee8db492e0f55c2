"""Retries for GitHub's REST API: rate limits honoured, every wait bounded and shared with the other runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from github import GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from urllib3.response import BaseHTTPResponse

MAX_RETRIES = 3
SECONDARY_RATE_WAIT = 60.0
_LIMIT_STATUSES = (403, 429)


class BoundedGithubRetry(GithubRetry):
    """GithubRetry that also gives up when a Retry-After asks for more than `max_rate_limit_wait`,
    and tells `on_limit` how long GitHub asked to back off.

    GithubRetry bounds waits computed from x-ratelimit-reset and for secondary limits, but urllib3
    sleeps for any Retry-After as given; a worker must fail clearly instead of hanging for an hour.
    The wait is this process's; `on_limit` makes it every run's (worker.github.pacing).
    """

    def __init__(self, *args: Any, on_limit: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_limit = on_limit

    def new(self, **kw: Any) -> Any:
        retry = super().new(**kw)
        retry.on_limit = self.on_limit
        return retry

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any) -> Any:
        response: BaseHTTPResponse | None = kwargs.get("response") or (args[0] if args else None)
        retry_after = self.get_retry_after(response) if response is not None else None
        limit = self.max_rate_limit_wait
        try:
            if response is not None and retry_after is not None and limit is not None and retry_after > limit:
                raise RateLimitExceededExceedsMaxWait(
                    response.status,
                    {"message": f"Retry-After {retry_after:.0f}s"},
                    dict(response.headers),
                    wait=retry_after,
                )
            retry = super().increment(method, url, *args, **kwargs)
        except RateLimitExceededExceedsMaxWait as err:
            self._share(err.wait)
            raise
        if response is not None and response.status in _LIMIT_STATUSES:
            # A 403 that comes back as a retry is a rate limit (GithubRetry raises for any other).
            self._share(max(retry_after or 0.0, retry.get_backoff_time()))
        return retry

    def _share(self, seconds: float | None) -> None:
        if self.on_limit is not None and seconds:
            self.on_limit(seconds)


def github_retry(max_wait: float, on_limit: Callable[[float], None] | None = None) -> BoundedGithubRetry:
    """The retry policy: 403/429 rate limits and 5xx, a few times, never waiting over `max_wait`."""
    return BoundedGithubRetry(
        total=MAX_RETRIES,
        backoff_factor=0.5,
        backoff_max=max(1.0, max_wait),
        secondary_rate_wait=min(SECONDARY_RATE_WAIT, max_wait),
        max_rate_limit_wait=max_wait,
        status_forcelist=[429, *range(500, 600)],
        on_limit=on_limit,
    )

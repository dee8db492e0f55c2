"""The periodic refresh of open pull requests, for a local server GitHub's webhooks do not reach."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.errors import CodyBatchError
from core.ports import PullRequestHost, Store
from core.services.pull_requests import refresh_open_pull_requests
from core.settings import Settings

log = logging.getLogger(__name__)


def refresh_interval(settings: Settings) -> float | None:
    """Seconds between refreshes, or None: off when set to 0 or when webhooks deliver the changes."""
    if settings.github_webhook_secret is not None or settings.pull_request_refresh_seconds <= 0:
        return None
    return settings.pull_request_refresh_seconds


class PullRequestPoller:
    """Refreshes open pull requests every `interval` seconds in a background task, until stopped."""

    def __init__(self, store: Store, host: PullRequestHost, interval: float) -> None:
        self.store = store
        self.host = host
        self.interval = interval
        self.rounds = 0  # completed refreshes, for whoever waits on them
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin refreshing (call from the event loop)."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop refreshing; a refresh under way in its thread finishes on its own."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)  # a server just started has nothing new to read
            try:
                await asyncio.to_thread(refresh_open_pull_requests, self.store, self.host)
            except CodyBatchError as err:  # GitHub unavailable or a lost race: next round tries again
                log.warning("periodic pull request refresh failed: %s", err)
            self.rounds += 1

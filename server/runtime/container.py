"""The Container: what the server runs on (settings, store, dispatcher), built by `bootstrap`.

Its own module, so code that only carries a Container (the web pieces the Lambda handlers reuse)
does not import the composition root and, through it, the local dispatcher and the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.ports import Dispatcher, PullRequestHost, Store
from core.services.recovery import Settled, settle_orphaned_runs
from core.settings import Settings

if TYPE_CHECKING:
    from server.runtime.data_dir_lock import DataDirLock
    from server.runtime.event_tail import FeedStore

logger = logging.getLogger(__name__)


@dataclass
class Container:
    """What the server needs: settings, the store and the dispatcher; locally, also the store's change
    feed (which the server tails for subscriptions) and the data dir lock."""

    settings: Settings
    store: Store
    dispatcher: Dispatcher
    feed: FeedStore | None = None  # None where events are pushed to the server instead (AWS)
    lock: DataDirLock | None = None
    pull_requests: PullRequestHost | None = None  # None: pull requests are not read from GitHub here

    def start(self) -> None:
        """Settle runs a stopped server left behind, then start background work (the forkserver warms up)."""
        # Only the holder of the data dir lock is the local server: every run then belongs to its
        # dispatcher, so one unfinished now has no worker. Without the lock, another server's do.
        if self.settings.backend == "local" and self.lock is not None and self.lock.held:
            settled = settle_orphaned_runs(self.store, self.settings.max_resumes)
            if settled.interrupted:
                logger.warning("%d run(s) left unfinished by a stopped server are now INTERRUPTED", settled.interrupted)
        else:
            settled = Settled()
        self.dispatcher.start()
        for job_id, indexes in settled.to_dispatch().items():
            logger.warning(
                "starting again %d run(s) of job %s left unfinished by a stopped server", len(indexes), job_id
            )
            self.dispatcher.dispatch(job_id, indexes)

    def close(self) -> None:
        """Release the dispatcher's workers, the store's connections, then the data dir."""
        self.dispatcher.close()
        self.store.close()
        if self.lock is not None:
            self.lock.release()

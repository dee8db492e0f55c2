"""The composition root: every adapter built from Settings, handed down as ports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigurationError
from core.ports import Dispatcher
from core.services.recovery import interrupt_orphaned_runs
from core.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Container:
    """What the server needs: settings, the store and the dispatcher."""

    settings: Settings
    store: Any  # store.sqlite.SqliteStore locally: the Store port plus the change feed
    dispatcher: Dispatcher

    def start(self) -> None:
        """Settle runs a stopped server left behind, then start background work (the forkserver warms up)."""
        # Locally every run belongs to this server's dispatcher: one unfinished now has no worker.
        if self.settings.backend == "local":
            interrupted = interrupt_orphaned_runs(self.store)
            if interrupted:
                logger.warning("%d run(s) left unfinished by a stopped server are now INTERRUPTED", interrupted)
        start = getattr(self.dispatcher, "start", None)
        if callable(start):
            start()

    def close(self) -> None:
        """Release the dispatcher's workers and the store's connections."""
        for resource in (self.dispatcher, self.store):
            close = getattr(resource, "close", None)
            if callable(close):
                close()


def bootstrap(settings: Settings) -> Container:
    """Build the local store and dispatcher from settings."""
    if settings.backend != "local":
        raise ConfigurationError(
            f"CODY_BATCH_BACKEND={settings.backend} is not available in this build yet; use local (the default)"
        )
    # Imported here: the adapters are heavy and only the local backend needs them.
    from server.dispatcher import SubprocessDispatcher
    from store.sqlite import SqliteStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(settings.database_path)
    return Container(settings=settings, store=store, dispatcher=SubprocessDispatcher(settings))

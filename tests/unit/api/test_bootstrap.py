"""bootstrap(): the local store and dispatcher built from settings."""

from __future__ import annotations

from core.settings import Settings
from server.bootstrap import bootstrap
from server.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore


def test_bootstrap_builds_local_adapters(settings: Settings) -> None:
    # GIVEN settings with a fresh data dir WHEN bootstrapped
    container = bootstrap(settings)
    try:
        # THEN the store is SQLite in the data dir and the dispatcher runs subprocesses
        assert isinstance(container.store, SqliteStore)
        assert isinstance(container.dispatcher, SubprocessDispatcher)
        assert settings.database_path.is_file()
        assert container.store.list_jobs(1).jobs == []
    finally:
        container.close()

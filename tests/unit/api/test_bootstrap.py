"""bootstrap(): the local store and dispatcher built from settings."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from server.runtime.bootstrap import bootstrap
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.patience import PATIENCE


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


def test_the_aws_backend_without_its_table_is_a_clear_error_and_creates_nothing(settings: Settings) -> None:
    # GIVEN settings asking for the AWS backend but naming no table or bucket
    aws = settings.model_copy(update={"backend": "aws"})
    # WHEN bootstrapped THEN a configuration error names what is missing, and no database file appears
    with pytest.raises(ConfigurationError, match="CODY_BATCH_TABLE, CODY_BATCH_BUCKET"):
        bootstrap(aws)
    assert not settings.database_path.exists()


def test_starting_the_container_warms_the_worker_forkserver(settings: Settings) -> None:
    # GIVEN a bootstrapped container WHEN started (as `serve` does before taking requests)
    container = bootstrap(settings)
    try:
        container.start()
        dispatcher = container.dispatcher
        assert isinstance(dispatcher, SubprocessDispatcher)
        # THEN the forkserver gets ready (worker modules imported) before any job exists
        assert dispatcher.ready.wait(PATIENCE)
        assert dispatcher.started == 0
    finally:
        container.close()

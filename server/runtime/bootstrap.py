"""The composition root: every adapter built from Settings, handed down as ports."""

from __future__ import annotations

from core.ports import Pacer, Store
from core.settings import Settings
from server.runtime.container import Container

__all__ = ["Container", "bootstrap", "open_pacer", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store a process writes to: SQLite in the data dir, or DynamoDB + S3 (`CODY_BATCH_BACKEND=aws`)."""
    if settings.backend == "aws":
        from server.aws.clients import dynamo_store

        return dynamo_store(settings)
    # Imported here: the adapters are heavy and each backend needs only its own.
    from store.sqlite import SqliteStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(settings.database_path)


def open_pacer(settings: Settings) -> Pacer | None:
    """The GitHub pace every run shares: on AWS an item of the table (None: files in the data dir)."""
    if settings.backend != "aws":
        return None
    from server.aws.clients import aws_client, required
    from store.dynamo_pacer import DynamoPacer

    (table,) = required(settings, "table")
    return DynamoPacer(aws_client("dynamodb"), table)


def bootstrap(settings: Settings) -> Container:
    """The store and dispatcher settings name: on AWS, DynamoDB and AWS Batch; locally, after locking
    the data dir (DataDirInUse when another server has it), SQLite and worker processes."""
    if settings.backend == "aws":
        from server.aws.clients import batch_dispatcher

        store = open_store(settings)
        return Container(settings=settings, store=store, dispatcher=batch_dispatcher(settings, store))
    from server.runtime.data_dir_lock import DataDirLock
    from server.runtime.dispatcher import SubprocessDispatcher
    from store.sqlite import SqliteStore

    # First, before anything reads or writes the data dir: a second server changes nothing.
    lock = DataDirLock(settings.data_dir).acquire()
    try:
        store = SqliteStore(settings.database_path)
    except BaseException:
        lock.release()
        raise
    from server.runtime.worker_config import github_access
    from worker.github.pull_status import github_pull_requests

    dispatcher = SubprocessDispatcher(settings)
    return Container(
        settings=settings,
        store=store,
        dispatcher=dispatcher,
        feed=store,
        lock=lock,
        pull_requests=github_pull_requests(github_access(settings)),
    )

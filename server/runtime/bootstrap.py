"""The composition root: every adapter built from Settings, handed down as ports."""

from __future__ import annotations

from core.settings import Settings
from server.runtime.backend import open_store
from server.runtime.container import Container
from server.runtime.data_dir_lock import DataDirLock
from server.runtime.dispatcher import SubprocessDispatcher
from server.runtime.worker_config import github_access


def bootstrap(settings: Settings) -> Container:
    """The store and dispatcher settings name: on AWS, DynamoDB and AWS Batch; locally, after locking
    the data dir (DataDirInUse when another server has it), SQLite and worker processes."""
    if settings.backend == "aws":
        # Imported here: boto3 and the AWS adapters are heavy, and only this backend needs them.
        from server.aws.clients import batch_dispatcher

        store = open_store(settings)
        return Container(settings=settings, store=store, dispatcher=batch_dispatcher(settings, store))
    from store.sqlite import SqliteStore  # here: each backend's adapters load only with it

    # First, before anything reads or writes the data dir: a second server changes nothing.
    lock = DataDirLock(settings.data_dir).acquire()
    try:
        store = SqliteStore(settings.database_path)
    except BaseException:
        lock.release()
        raise
    from worker.github.pull_status import github_pull_requests  # PyGithub: not for a server refused the data dir

    dispatcher = SubprocessDispatcher(settings)
    return Container(
        settings=settings,
        store=store,
        dispatcher=dispatcher,
        feed=store,
        lock=lock,
        pull_requests=github_pull_requests(github_access(settings)),
    )

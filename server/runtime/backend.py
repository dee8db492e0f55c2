"""The shared state a process opens for itself from Settings: the store and the GitHub pacer of the backend.

Both the composition root (`bootstrap`, the server) and the worker command (a run process, or a
Batch child) open them; a module of their own, so neither imports the other.
"""

from __future__ import annotations

from core.ports import Pacer, Store
from core.settings import Settings


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

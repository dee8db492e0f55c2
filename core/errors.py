"""The error tree. Edges (GraphQL, CLI, worker) turn these into user-facing answers."""

from __future__ import annotations


class CodyBatchError(Exception):
    """Base of every expected error; its message is safe to show to a user."""


class InputError(CodyBatchError):
    """Bad input from a user; `field` is the input path (e.g. ``repositories.2``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(CodyBatchError):
    """An id that names nothing stored."""

    code = "NOT_FOUND"


class ConflictError(CodyBatchError):
    """A conditional write lost: the row changed since it was read."""


class TransitionError(CodyBatchError):
    """A status change the state machine does not allow."""


class RunCancelled(CodyBatchError):
    """The run was cancelled while a worker was on it."""


class RunSuperseded(RunCancelled):
    """The run moved on without this worker: it finished (cancelled, failed by the server, ...)
    or a newer attempt started. The worker stops and writes nothing more, like on a cancel."""


class DataDirInUse(CodyBatchError):
    """Another server holds the data dir (a local server locks it for its whole life)."""


class ConfigurationError(CodyBatchError):
    """A setting is missing or wrong (e.g. no API key outside demo mode)."""

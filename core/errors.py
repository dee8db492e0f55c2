"""The error tree. Edges (GraphQL, CLI, worker) turn these into user-facing answers."""

from __future__ import annotations

from enum import StrEnum


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


class RunErrorKind(StrEnum):
    """Why a run failed: every kind the README's table lists, by step. JSON and GraphQL carry these names."""

    # set-up
    CONFIGURATION = "CONFIGURATION"
    # GitHub gate (pull-request jobs, before any model call) and publish
    NOT_A_GITHUB_REPOSITORY = "NOT_A_GITHUB_REPOSITORY"
    REPOSITORY_ARCHIVED = "REPOSITORY_ARCHIVED"
    NO_PUSH_PERMISSION = "NO_PUSH_PERMISSION"
    REPOSITORY_NOT_FOUND = "REPOSITORY_NOT_FOUND"
    REPOSITORY_MOVED = "REPOSITORY_MOVED"
    DUPLICATE_REPOSITORY = "DUPLICATE_REPOSITORY"
    GITHUB_AUTH_FAILED = "GITHUB_AUTH_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    GITHUB_UNAVAILABLE = "GITHUB_UNAVAILABLE"
    GITHUB_ERROR = "GITHUB_ERROR"
    # clone
    CLONE_FAILED = "CLONE_FAILED"
    CLONE_TIMEOUT = "CLONE_TIMEOUT"
    EMPTY_REPOSITORY = "EMPTY_REPOSITORY"
    REPOSITORY_TOO_LARGE = "REPOSITORY_TOO_LARGE"
    # agent
    AGENT_ERROR = "AGENT_ERROR"
    BUDGET = "BUDGET"  # the run's own token or cost limit
    JOB_BUDGET = "JOB_BUDGET"  # the job's cost limit, shared by all its runs
    TURN_LIMIT = "TURN_LIMIT"
    TIMEOUT = "TIMEOUT"
    REFUSAL = "REFUSAL"
    CONTEXT_OVERFLOW = "CONTEXT_OVERFLOW"
    MAX_TOKENS = "MAX_TOKENS"
    MODEL_ERROR = "MODEL_ERROR"
    # publish
    BRANCH_MODIFIED = "BRANCH_MODIFIED"
    PULL_REQUEST_MERGED = "PULL_REQUEST_MERGED"
    PULL_REQUEST_CLOSED = "PULL_REQUEST_CLOSED"
    PUSH_FAILED = "PUSH_FAILED"
    GIT_FAILED = "GIT_FAILED"
    NO_CHANGES = "NO_CHANGES"  # nothing to commit: the workspace lost the change before the push
    # restore (a retry of a run that failed at publish)
    RESTORE_FAILED = "RESTORE_FAILED"
    # any step, validate, patch
    WORKSPACE_TAMPERED = "WORKSPACE_TAMPERED"
    FORBIDDEN_PATH = "FORBIDDEN_PATH"
    PATCH_TOO_LARGE = "PATCH_TOO_LARGE"
    # process
    WORKER_START_FAILED = "WORKER_START_FAILED"
    WORKER_DIED = "WORKER_DIED"
    TERMINATED = "TERMINATED"
    INTERRUPTED = "INTERRUPTED"
    INTERNAL = "INTERNAL"


class RunFailure(CodyBatchError):
    """An expected way for a run to fail. Its message is written for users; `kind` and `step` are
    recorded with it (`step` None: the step under way)."""

    kind: RunErrorKind = RunErrorKind.INTERNAL
    step: str | None = None

    def __init__(self, message: str, kind: RunErrorKind | None = None, step: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        if step is not None:
            self.step = step


class ConfigurationError(RunFailure):
    """A setting is missing or wrong (e.g. no API key outside demo mode)."""

    kind = RunErrorKind.CONFIGURATION

"""Domain models: jobs, repository runs, threads, events, usage."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.enums import JobKind, JobStatus, OutputMode, Strategy
from core.errors import RunErrorKind
from core.ids import new_id, utcnow


class RunStatus(StrEnum):
    PENDING = "PENDING"
    CLONING = "CLONING"
    RUNNING_AGENT = "RUNNING_AGENT"
    VALIDATING = "VALIDATING"
    PUBLISHING = "PUBLISHING"
    SUCCEEDED = "SUCCEEDED"
    NO_CHANGES = "NO_CHANGES"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in FINISHED_RUN_STATUSES


FINISHED_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.NO_CHANGES, RunStatus.FAILED, RunStatus.CANCELLED})


class EventKind(StrEnum):
    STATUS = "STATUS"
    STEP = "STEP"
    TURN = "TURN"
    USAGE = "USAGE"
    PULL_REQUEST = "PULL_REQUEST"  # its state, checks or review decision changed on GitHub


class FileChange(StrEnum):
    """What a patch does to one file."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    RENAMED = "RENAMED"


class CheckStatus(StrEnum):
    """How one validation check ended."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    REGRESSED = "REGRESSED"
    PRE_EXISTING_FAILURE = "PRE_EXISTING_FAILURE"
    UNVERIFIED = "UNVERIFIED"


class Model(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid", defer_build=True)


class Usage(Model):
    """Tokens and cost; adds up across turns, runs and jobs."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


class Budget(Model):
    """Per-run limits; None means the server default."""

    max_turns: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None


class RunError(Model):
    kind: RunErrorKind
    message: str


class PatchFile(Model):
    path: str
    change: FileChange
    additions: int = 0
    deletions: int = 0
    binary: bool = False


class Patch(Model):
    """Stats of a stored patch; the diff itself is the artifact at `artifact_key`."""

    artifact_key: str
    files: list[PatchFile] = Field(default_factory=list)
    additions: int = 0
    deletions: int = 0
    base_commit: str | None = None
    size_bytes: int | None = None  # of the diff; None for patches stored before sizes were kept

    @property
    def files_changed(self) -> int:
        return len(self.files)


class PullRequestState(StrEnum):
    OPEN = "OPEN"
    DRAFT = "DRAFT"
    MERGED = "MERGED"
    CLOSED = "CLOSED"


class ChecksState(StrEnum):
    """Check runs and commit statuses on a pull request's head, together."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    NONE = "NONE"


class ReviewDecision(StrEnum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    REVIEW_REQUIRED = "REVIEW_REQUIRED"
    NONE = "NONE"


class PullRequestAction(StrEnum):
    PUBLISH = "PUBLISH"  # draft -> ready for review
    COMMENT = "COMMENT"
    CLOSE = "CLOSE"
    MERGE = "MERGE"
    DELETE_BRANCH = "DELETE_BRANCH"  # after close or merge


class ActionOutcome(StrEnum):
    DONE = "DONE"
    WOULD_DO = "WOULD_DO"  # a dry run's answer
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class ActionResult(Model):
    """What an action did (or would do) to one run's pull request, and why."""

    run_id: str
    location: str
    number: int | None = None
    url: str | None = None
    outcome: ActionOutcome
    message: str


class PullRequestStatus(Model):
    """What GitHub says of a pull request now; `reads` let the next read ask "changed since?"."""

    state: PullRequestState
    checks: ChecksState = ChecksState.NONE
    review_decision: ReviewDecision = ReviewDecision.NONE
    mergeable: bool | None = None
    updated_at: dt.datetime | None = None
    # The host's last answers, by what it read (their ETags and the parts it uses): unchanged parts are
    # not sent again, and a conditional request that GitHub answers 304 does not count against the rate limit.
    reads: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Checkpoint(Model):
    """The workspace as a turn left it: a binary diff against `base_commit`, stored as an artifact.

    With the thread of the same attempt it is all a run needs to go on elsewhere: clone at the
    base commit, apply the diff, send the thread."""

    artifact_key: str
    base_commit: str
    turn: int  # the thread's turn count when it was taken
    size_bytes: int = 0


class PullRequest(Model):
    url: str
    number: int
    branch: str
    draft: bool = False
    status: PullRequestStatus | None = None  # None until first synced: then as opened
    synced_at: dt.datetime | None = None

    @property
    def state(self) -> PullRequestState:
        """The last known state; before any sync, the state it was opened in."""
        if self.status is not None:
            return self.status.state
        return PullRequestState.DRAFT if self.draft else PullRequestState.OPEN


class Branch(Model):
    """Where a run publishes: GitHub's name of the repository, the branch, and what the run last pushed."""

    repository: str  # owner/name as GitHub resolved it, lower-case: one run per repository and job
    name: str
    head: str | None = None  # the commit this run last pushed; a push replaces only this one


class ValidationCheck(Model):
    name: str
    status: CheckStatus
    output: str = ""
    pre_existing: bool = False  # it failed on the code before the change too: not the change's doing


class Validation(Model):
    verdict: Verdict = Verdict.UNVERIFIED
    checks: list[ValidationCheck] = Field(default_factory=list)


class CommandIsolation(Model):
    """How a run's commands (the agent's and the check command) ran: what of the machine they could reach."""

    filesystem: bool  # bubblewrap: the workspace only, the worker's home and other runs hidden
    network: bool  # no network but loopback
    reason: str | None = None  # why an isolation is missing, in the refusing tool's words (home shown as ~)

    def weakest(self, other: CommandIsolation) -> CommandIsolation:
        """The isolation of an attempt whose commands ran under both (a resumed run on another worker)."""
        # Each tool's refusal once: two workers on the same kind of machine give the same words.
        reasons = [part for reason in (self.reason, other.reason) if reason for part in reason.split("; ")]
        return CommandIsolation(
            filesystem=self.filesystem and other.filesystem,
            network=self.network and other.network,
            reason="; ".join(dict.fromkeys(reasons)) or None,
        )


class Message(Model):
    """One Anthropic message exactly as exchanged: role and content blocks (API dicts)."""

    index: int
    role: str
    content: list[dict[str, Any]]
    usage: Usage | None = None
    stop_reason: str | None = None


class Thread(Model):
    """The exact exchange with Claude for one attempt of one run."""

    run_id: str
    attempt: int = 1
    model: str
    system: list[dict[str, Any]] = Field(default_factory=list)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)

    @property
    def turns(self) -> int:
        return sum(1 for m in self.messages if m.role == "assistant")

    @property
    def usage(self) -> Usage:
        total = Usage()
        for message in self.messages:
            if message.usage is not None:
                total = total + message.usage
        return total


class ResumeReason(StrEnum):
    """Why a run went on from its thread and checkpoint instead of starting over."""

    CONTINUED = "CONTINUED"  # the user went on with a run a limit stopped, or one failed past its resumptions
    RESUMED = "RESUMED"  # its worker or server died mid-run


class Resumption(Model):
    """One time the current attempt went on from its stored state: why, from which turn, when."""

    reason: ResumeReason
    from_turn: int
    at: dt.datetime = Field(default_factory=utcnow)
    cause: str | None = None  # what stopped it, in words (None: recorded before causes were)


class RunAttempt(Model):
    """An earlier attempt of a run, kept when the run is retried."""

    attempt: int
    status: RunStatus
    step: str | None = None
    error: RunError | None = None
    summary: str | None = None
    patch: Patch | None = None
    validation: Validation | None = None
    command_isolation: CommandIsolation | None = None
    usage: Usage = Field(default_factory=Usage)
    resumptions: list[Resumption] = Field(default_factory=list)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class BatchSubmission(Model):
    """A run's AWS Batch job, not yet recorded: its tag, the runs submitted with it, who submits it."""

    token: str  # tags the Batch job, so a second submitter finds it instead of submitting another
    # Run index -> attempt of every run of the one Batch job (an array job for two or more); empty: this run alone.
    runs: dict[int, int] = Field(default_factory=dict)
    replaces: str | None = None  # the failed Batch job the run was resumed from (None: not a resumption)
    since: dt.datetime = Field(default_factory=utcnow)
    claimed_at: dt.datetime | None = None  # a submitter has been at work since then (None: nobody is)


class RepositoryRun(Model):
    id: str = Field(default_factory=new_id)
    job_id: str
    index: int
    location: str
    status: RunStatus = RunStatus.PENDING
    step: str | None = None
    attempt: int = 1
    error: RunError | None = None
    summary: str | None = None
    patch: Patch | None = None
    pull_request: PullRequest | None = None
    branch: Branch | None = None
    reopen_pull_request: bool = False  # this attempt may reopen a pull request closed on GitHub
    validation: Validation | None = None
    # How this attempt's commands ran; None when commands were off for it (or none could run yet).
    command_isolation: CommandIsolation | None = None
    usage: Usage = Field(default_factory=Usage)
    # Claude's answers in the current attempt's stored thread, kept with it so a live update need not read it.
    turns: int = 0
    checkpoint: Checkpoint | None = None  # the current attempt's workspace after its last turn that changed files
    budget: Budget | None = None  # limits raised for this attempt by continueRun (unset fields: the job's)
    resumptions: list[Resumption] = Field(default_factory=list)  # of the current attempt
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    attempts: list[RunAttempt] = Field(default_factory=list)
    batch_job_id: str | None = None
    """The AWS Batch job (or array child, `ARRAY_ID:N`) running the current attempt."""
    batch_submission: BatchSubmission | None = None
    """Set by every Batch submission until its job's id is recorded (server/aws/batch_submission.py)."""
    version: int = 0

    def as_attempt(self) -> RunAttempt:
        """The current attempt as an earlier one, to keep when the run is retried."""
        return RunAttempt(**{name: getattr(self, name) for name in RunAttempt.model_fields})

    @property
    def thread_key(self) -> str:
        return thread_key(self.id, self.attempt)


def thread_key(run_id: str, attempt: int) -> str:
    """Artifact key of the thread of one attempt of a run."""
    return f"threads/{run_id}/{attempt}.json"


def checkpoint_key(run_id: str, attempt: int) -> str:
    """Artifact key of the workspace checkpoint of one attempt of a run (next to its thread)."""
    return f"checkpoints/{run_id}/{attempt}.diff"


class Job(Model):
    id: str = Field(default_factory=new_id)
    title: str
    prompt: str
    kind: JobKind = JobKind.CHANGE
    output: OutputMode = OutputMode.PATCH
    strategy: Strategy = Strategy.GENERIC
    model: str
    budget: Budget = Field(default_factory=Budget)
    # What all its runs together may cost; None: the server's max_job_cost_usd. Set when a run the
    # limit stopped is continued with a higher one.
    max_job_cost_usd: float | None = None
    check_command: str | None = None
    status: JobStatus = JobStatus.QUEUED
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    usage: Usage = Field(default_factory=Usage)
    last_seq: int = 0
    version: int = 0

    @property
    def cursor(self) -> str:
        return encode_cursor(self.last_seq)


class NewEvent(Model):
    """An event to be written with the change that caused it; the store numbers it."""

    run_id: str | None = None
    kind: EventKind
    old_value: str | None = None
    new_value: str | None = None


class Event(Model):
    job_id: str
    seq: int
    run_id: str | None = None
    kind: EventKind
    old_value: str | None = None
    new_value: str | None = None
    at: dt.datetime

    @property
    def cursor(self) -> str:
        return encode_cursor(self.seq)


# Digits a cursor may carry: its number must fit a 64-bit store integer.
MAX_CURSOR_DIGITS = 18


def encode_cursor(seq: int) -> str:
    """Opaque cursor of a per-job event sequence number."""
    return f"e{seq:010d}"


def decode_cursor(cursor: str | None) -> int:
    """The sequence number inside a cursor; raises ValueError on a foreign one."""
    if not cursor:
        return 0
    digits = cursor[1:]
    if not cursor.startswith("e") or not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_CURSOR_DIGITS:
        raise ValueError(f"not a valid event cursor: {cursor!r}")
    return int(digits)

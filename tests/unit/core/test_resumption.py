"""Runs going on as the same attempt: continued with a raised budget, or resumed after their worker died."""

from __future__ import annotations

import pytest

from core.errors import InputError, NotFoundError, RunErrorKind, RunSuperseded
from core.models import Budget, EventKind, Job, Message, RepositoryRun, ResumeReason, RunStatus, Thread, Usage
from core.services.continuation import continue_run
from core.services.progress import RunProgress
from core.services.recovery import resume_run, settle_orphaned_runs
from core.services.updates import update_run
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher
from tests.unit.core.pull_request_runs import store_job

JOB_BUDGET = Budget(max_turns=3, max_tokens=50_000, max_cost_usd=2.0)


def _job(store: SqliteStore, count: int = 1) -> tuple[Job, list[RepositoryRun]]:
    job = Job(title="Change", prompt="Change", model="claude-test", budget=JOB_BUDGET)
    job = store_job(store, [RepositoryRun(job_id=job.id, index=i, location=f"/srv/r{i}") for i in range(count)], job)
    return job, store.get_runs([job.id])[job.id]


def _working(store: SqliteStore, run_id: str, turns: int | None, spent_usd: float = 0.0) -> RunProgress:
    """The run in its agent step, with a stored thread of `turns` turns (none when None) that cost `spent_usd`."""
    progress = RunProgress(store, run_id)
    progress.advance(status=RunStatus.RUNNING_AGENT, step="agent")
    if turns is not None:
        thread = Thread(run_id=run_id, model="claude-test")
        go = [{"type": "text", "text": "go"}]
        thread.messages = [Message(index=0, role="user", content=go, usage=Usage(cost_usd=spent_usd))]
        for _ in range(turns):
            for role in ("assistant", "user"):
                thread.messages.append(
                    Message(index=len(thread.messages), role=role, content=[], stop_reason="tool_use")
                )
        progress.save_thread(thread)
    return progress


def _run(store: SqliteStore, run_id: str) -> RepositoryRun:
    run = store.get_run(run_id)
    assert run is not None
    return run


def test_a_continued_run_keeps_every_limit_it_was_not_given_and_goes_on_from_its_turn(store: SqliteStore) -> None:
    # GIVEN the second run of a job, stopped by its budget after two turns
    job, runs = _job(store, 2)
    _working(store, runs[1].id, 2).fail(RunErrorKind.BUDGET, "Spent the budget.")
    dispatcher = RecordingDispatcher()
    # WHEN it is continued with only more money
    continued = continue_run(store, dispatcher, runs[1].id, Budget(max_cost_usd=5.0))
    # THEN it is pending again as the same attempt, from turn 2, with the job's other limits kept
    run = _run(store, runs[1].id)
    assert (run.status, run.attempt, run.error, run.step, run.finished_at) == (RunStatus.PENDING, 1, None, None, None)
    assert [(r.reason, r.from_turn, r.cause) for r in run.resumptions] == [
        (
            ResumeReason.CONTINUED,
            2,
            "continued by the user after its budget, with at most 3 turns, at most 50000 tokens, at most $5.0",
        )
    ]
    assert run.budget == Budget(max_turns=3, max_tokens=50_000, max_cost_usd=5.0)
    # AND it is dispatched by its index, and the job returned is the one stored
    assert dispatcher.dispatched == [(job.id, [1])]
    assert continued == store.get_job(job.id)
    # WHEN it stops again at its turn limit and is continued with more turns
    _working(store, runs[1].id, 3).fail(RunErrorKind.TURN_LIMIT, "Used all 3 turns.")
    continue_run(store, dispatcher, runs[1].id, Budget(max_turns=4))
    # THEN the money raised before is kept too
    run = _run(store, runs[1].id)
    assert run.budget == Budget(max_turns=4, max_tokens=50_000, max_cost_usd=5.0)
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [
        (ResumeReason.CONTINUED, 2),
        (ResumeReason.CONTINUED, 3),
    ]


def test_a_run_stopped_by_its_jobs_cost_limit_needs_a_job_limit_above_what_the_job_spent(store: SqliteStore) -> None:
    # GIVEN a job whose runs together spent $2.10, the second stopped by the job's cost limit
    job, runs = _job(store, 2)
    _working(store, runs[0].id, 1, spent_usd=1.5)
    _working(store, runs[1].id, 1, spent_usd=0.6).fail(RunErrorKind.JOB_BUDGET, "The job cost $2.1 (its limit $2.00).")
    before, dispatcher = _run(store, runs[1].id), RecordingDispatcher()
    # WHEN it is continued with only a higher run limit THEN it is refused, naming the job's limit
    with pytest.raises(InputError) as err:
        continue_run(store, dispatcher, runs[1].id, Budget(max_cost_usd=5.0))
    assert (err.value.field, err.value.message) == (
        "maxJobCostUsd",
        "the run was stopped by its job's cost limit (all its runs together; $2.10 spent): "
        "continue it with maxJobCostUsd above that",
    )
    # AND a job limit not above what was spent, or above the largest, is refused too
    for refused in (2.1, 1.0, 1000.5, float("nan")):
        with pytest.raises(InputError) as low:
            continue_run(store, dispatcher, runs[1].id, Budget(), max_job_cost_usd=refused)
        assert low.value.field == "maxJobCostUsd" and "above the $2.10 the job has spent" in low.value.message
    # AND nothing changed meanwhile
    assert _run(store, runs[1].id) == before and dispatcher.dispatched == []
    assert store.get_job(job.id).max_job_cost_usd is None  # type: ignore[union-attr]
    # WHEN it is continued with a job limit above that
    continued = continue_run(store, dispatcher, runs[1].id, Budget(), max_job_cost_usd=3.0)
    # THEN it is pending again, the job keeps its new limit, and the cause says both
    run = _run(store, runs[1].id)
    assert run.status is RunStatus.PENDING and continued.max_job_cost_usd == 3.0
    assert store.get_job(job.id) == continued and dispatcher.dispatched == [(job.id, [1])]
    assert [r.cause for r in run.resumptions] == [
        "continued by the user after its job's cost limit, with at most 3 turns, at most 50000 tokens, "
        "at most $2.0, the job at most $3.0"
    ]


def test_a_run_stopped_by_its_own_budget_may_raise_the_jobs_limit_too(store: SqliteStore) -> None:
    # GIVEN a run stopped by its own budget
    job, [run] = _job(store)
    _working(store, run.id, 1, spent_usd=2.5).fail(RunErrorKind.BUDGET, "The run cost $2.5 (limit $2.00).")
    # WHEN it is continued with more money for itself and for the job THEN both are kept
    continue_run(store, RecordingDispatcher(), run.id, Budget(max_cost_usd=4.0), max_job_cost_usd=10.0)
    assert _run(store, run.id).budget.max_cost_usd == 4.0  # type: ignore[union-attr]
    assert store.get_job(job.id).max_job_cost_usd == 10.0  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", [RunErrorKind.BUDGET, RunErrorKind.TIMEOUT])
def test_only_a_turn_limit_needs_more_turns_than_were_taken(store: SqliteStore, kind: RunErrorKind) -> None:
    # GIVEN a run stopped by its budget or time after two turns
    _, [run] = _job(store)
    _working(store, run.id, 2).fail(kind, "Stopped.")
    # WHEN continued with no more turns than it took THEN it goes on
    continue_run(store, RecordingDispatcher(), run.id, Budget(max_turns=2))
    assert _run(store, run.id).status is RunStatus.PENDING


@pytest.mark.parametrize("max_turns", [1, 2])
def test_a_run_stopped_by_its_turn_limit_needs_more_turns_than_it_took(store: SqliteStore, max_turns: int) -> None:
    # GIVEN a run stopped by its turn limit after two turns
    _, [run] = _job(store)
    _working(store, run.id, 2).fail(RunErrorKind.TURN_LIMIT, "Used all 2 turns.")
    before, dispatcher = _run(store, run.id), RecordingDispatcher()
    # WHEN continued with no more turns than that THEN it is refused, naming the field, and nothing changes
    with pytest.raises(InputError) as err:
        continue_run(store, dispatcher, run.id, Budget(max_turns=max_turns))
    assert (err.value.field, err.value.message) == (
        "budget.maxTurns",
        "maxTurns must be above the 2 turns the run already took",
    )
    assert _run(store, run.id) == before and dispatcher.dispatched == []


def test_a_turn_limit_run_continued_without_a_turn_limit_keeps_the_one_it_had(store: SqliteStore) -> None:
    # GIVEN a run stopped by its turn limit of 3 after three turns
    _, [run] = _job(store)
    _working(store, run.id, 3).fail(RunErrorKind.TURN_LIMIT, "Used all 3 turns.")
    # WHEN continued with only more tokens THEN it is refused: its limit is no higher than the turns taken
    with pytest.raises(InputError, match="above the 3 turns"):
        continue_run(store, RecordingDispatcher(), run.id, Budget(max_tokens=60_000))


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (
            RunStatus.FAILED,
            RunErrorKind.AGENT_ERROR,
            "is FAILED (AGENT_ERROR); only a run stopped by its budget, its job's cost limit, its turn limit or "
            "its time limit, or failed INTERRUPTED or WORKER_DIED,",
        ),
        (
            RunStatus.RUNNING_AGENT,
            None,
            "is RUNNING_AGENT; only a run stopped by its budget, its job's cost limit, its turn limit or "
            "its time limit, or failed INTERRUPTED or WORKER_DIED,",
        ),
    ],
)
def test_a_run_no_limit_stopped_cannot_be_continued(
    store: SqliteStore, status: RunStatus, kind: RunErrorKind | None, words: str
) -> None:
    # GIVEN a run with a thread that failed otherwise, or is still working
    _, [run] = _job(store)
    progress = _working(store, run.id, 1)
    if kind is not None:
        progress.fail(kind, "Broke.")
    before, dispatcher = _run(store, run.id), RecordingDispatcher()
    # WHEN continued THEN it is refused, naming the run, and nothing changes
    with pytest.raises(InputError) as err:
        continue_run(store, dispatcher, run.id, Budget(max_turns=10))
    assert (err.value.field, err.value.message) == ("runId", f"run {run.id} {words} can be continued")
    assert _run(store, run.id) == before and dispatcher.dispatched == []


def test_a_run_without_a_stored_thread_or_an_unknown_run_cannot_be_continued(store: SqliteStore) -> None:
    # GIVEN a run stopped by its budget before any turn was saved
    _, [run] = _job(store)
    _working(store, run.id, None).fail(RunErrorKind.BUDGET, "Spent.")
    # WHEN continued THEN it is refused: there is nothing to go on from
    with pytest.raises(InputError) as err:
        continue_run(store, RecordingDispatcher(), run.id, Budget(max_turns=10))
    assert (err.value.field, err.value.message) == (
        "runId",
        f"run {run.id} has no stored thread to continue from; retry it instead",
    )
    # AND an unknown run is not found
    with pytest.raises(NotFoundError) as missing:
        continue_run(store, RecordingDispatcher(), "nope", Budget(max_turns=10))
    assert str(missing.value) == "no run with id nope"


@pytest.mark.parametrize(
    ("kind", "after"), [(RunErrorKind.WORKER_DIED, "its worker died"), (RunErrorKind.INTERRUPTED, "the server stopped")]
)
def test_a_run_failed_past_its_resumptions_is_continued_with_its_limits_and_may_be_resumed_again(
    store: SqliteStore, kind: RunErrorKind, after: str
) -> None:
    # GIVEN a run whose worker died in turn 3 once its one resumption was used, so it failed
    job, [run] = _job(store)
    _working(store, run.id, 1)
    assert resume_run(store, run.id, 1, 1, "worker died") is True
    _working(store, run.id, 2).fail(kind, "Gone.")
    assert resume_run(store, run.id, 1, 1, "worker died") is False
    dispatcher = RecordingDispatcher()
    # WHEN the user continues it, raising no limit
    continue_run(store, dispatcher, run.id, Budget())
    # THEN it is pending again as the same attempt, from turn 2, with the limits it had, and dispatched
    stored = _run(store, run.id)
    assert (stored.status, stored.attempt, stored.error) == (RunStatus.PENDING, 1, None)
    assert [(r.reason, r.from_turn, r.cause) for r in stored.resumptions][-1] == (
        ResumeReason.CONTINUED,
        2,
        f"continued by the user after {after}, with at most 3 turns, at most 50000 tokens, at most $2.0",
    )
    assert stored.budget == JOB_BUDGET and dispatcher.dispatched == [(job.id, [0])]
    # AND should its worker die again, the server resumes it once more on its own: the user's continuation
    # gave it its resumptions back
    _working(store, run.id, 3)
    assert resume_run(store, run.id, 1, 1, "worker died") is True
    assert [r.reason for r in _run(store, run.id).resumptions] == [
        ResumeReason.RESUMED,
        ResumeReason.CONTINUED,
        ResumeReason.RESUMED,
    ]


def test_a_continued_run_names_no_batch_job_until_its_next_one_is_recorded(store: SqliteStore) -> None:
    # GIVEN a run whose Batch child recorded its turn limit
    _, [run] = _job(store)
    progress = _working(store, run.id, 1)
    update_run(store, run.job_id, run.id, lambda r: r.model_copy(update={"batch_job_id": "batch-old"}))
    progress.fail(RunErrorKind.TURN_LIMIT, "Used all turns.")
    # WHEN it is continued THEN it no longer names that Batch job, whose late events must not touch it
    continue_run(store, RecordingDispatcher(), run.id, Budget(max_turns=5))
    assert _run(store, run.id).batch_job_id is None


def test_a_run_whose_worker_died_is_resumed_from_its_turn_while_it_has_resumptions_left(store: SqliteStore) -> None:
    # GIVEN the second run of a job, working in its third turn
    job, runs = _job(store, 2)
    _working(store, runs[1].id, 2)
    seq = store.list_events(job.id)[-1].seq
    # WHEN its worker dies and it may be resumed once THEN it is: pending as the same attempt, from turn 2
    assert resume_run(store, runs[1].id, 1, 1, "worker died") is True
    run = _run(store, runs[1].id)
    assert (run.status, run.attempt, run.step) == (RunStatus.PENDING, 1, None)
    assert [(r.reason, r.from_turn, r.cause) for r in run.resumptions] == [(ResumeReason.RESUMED, 2, "worker died")]
    assert [(e.run_id, e.kind, e.new_value) for e in store.list_events(job.id, seq)][:2] == [
        (run.id, EventKind.STATUS, RunStatus.PENDING),
        (run.id, EventKind.STEP, None),
    ]
    # AND the first run was left alone
    assert _run(store, runs[0].id).resumptions == []
    # WHEN it dies again THEN it is not resumed: its one resumption is used, and nothing changes
    _working(store, runs[1].id, 3)
    before = _run(store, runs[1].id)
    assert resume_run(store, runs[1].id, 1, 1, "worker died") is False
    assert _run(store, runs[1].id) == before
    # AND with two resumptions allowed it is, from turn 3
    assert resume_run(store, runs[1].id, 1, 2, "worker died") is True
    assert [r.from_turn for r in _run(store, runs[1].id).resumptions] == [2, 3]


def test_a_continuation_does_not_use_up_resumptions_and_a_run_without_a_thread_starts_over(store: SqliteStore) -> None:
    # GIVEN a run continued once after its budget, then working again without a saved turn of its own
    _, [run] = _job(store)
    _working(store, run.id, 1).fail(RunErrorKind.BUDGET, "Spent.")
    continue_run(store, RecordingDispatcher(), run.id, Budget(max_cost_usd=5.0))
    # WHEN its worker dies, one resumption allowed THEN it is resumed from the turn of its thread
    RunProgress(store, run.id).advance(status=RunStatus.CLONING)
    assert resume_run(store, run.id, 1, 1, "worker died") is True
    assert [(r.reason, r.from_turn) for r in _run(store, run.id).resumptions][-1] == (ResumeReason.RESUMED, 1)
    # AND a queued run with no thread goes on from turn 0
    _, [fresh] = _job(store)
    assert resume_run(store, fresh.id, 1, 1, "worker died") is True
    assert [r.from_turn for r in _run(store, fresh.id).resumptions] == [0]


def test_a_finished_retried_or_unknown_run_is_not_resumed(store: SqliteStore) -> None:
    # GIVEN a failed run, and a working one asked about as of another attempt
    _, [failed, working] = _job(store, 2)
    _working(store, failed.id, 1).fail(RunErrorKind.AGENT_ERROR, "Broke.")
    _working(store, working.id, 1)
    before = (_run(store, failed.id), _run(store, working.id))
    # WHEN each is to be resumed THEN none is, and nothing changes
    assert resume_run(store, failed.id, 1, 5, "worker died") is False
    assert resume_run(store, working.id, 2, 5, "worker died") is False
    assert resume_run(store, "nope", 1, 5, "worker died") is False
    assert (_run(store, failed.id), _run(store, working.id)) == before


def test_settling_a_stopped_server_passes_over_finished_runs_to_the_unfinished_after_them(store: SqliteStore) -> None:
    # GIVEN a job whose first run failed and whose second was working when the server stopped
    _, [failed, working] = _job(store, 2)
    _working(store, failed.id, 1).fail(RunErrorKind.AGENT_ERROR, "Broke.")
    _working(store, working.id, 1)
    # WHEN the next server settles it, with no resumptions allowed THEN the second ends INTERRUPTED, the first stays
    settled = settle_orphaned_runs(store, 0)
    assert settled.interrupted == 1 and dict(settled.resumed) == {}
    assert _run(store, working.id).error.kind is RunErrorKind.INTERRUPTED  # type: ignore[union-attr]
    assert _run(store, failed.id).error.kind is RunErrorKind.AGENT_ERROR  # type: ignore[union-attr]


@pytest.mark.parametrize("max_resumes", [1, 3])
def test_a_run_pending_again_when_the_server_stops_is_started_as_it_is(store: SqliteStore, max_resumes: int) -> None:
    # GIVEN a run resumed once after its worker died, still pending (no process has taken it up) when the
    # server stops: with that resumption its last one, or with more left
    job, [run] = _job(store, 1)
    _working(store, run.id, 2)
    assert resume_run(store, run.id, 1, max_resumes, "worker died") is True
    # WHEN the next server settles it
    settled = settle_orphaned_runs(store, max_resumes)
    # THEN it is only started again: not failed, and no resumption spent on it, since it had not begun
    assert dict(settled.pending) == {job.id: [0]} and dict(settled.resumed) == {}
    assert settled.to_dispatch() == {job.id: [0]} and settled.interrupted == 0
    stored = _run(store, run.id)
    assert stored.status is RunStatus.PENDING and stored.error is None
    assert [(r.from_turn, r.cause) for r in stored.resumptions] == [(2, "worker died")]


def test_a_worker_of_an_attempt_resumed_past_it_can_write_nothing(store: SqliteStore) -> None:
    # GIVEN a working run, and the handles of two workers of it: one that read it, one told its resumptions
    _, [run] = _job(store, 1)
    _working(store, run.id, 1)
    first, told = RunProgress(store, run.id), RunProgress(store, run.id, attempt=1, resumptions=0)
    first.check_cancelled()
    # WHEN the run is resumed for another worker (its worker was thought dead)
    assert resume_run(store, run.id, 1, 3, "worker died") is True
    # THEN neither old worker can write to it any more, and the run is as the resumption left it
    before = _run(store, run.id)
    for stale in (first, told):
        with pytest.raises(RunSuperseded):
            stale.advance(step="validate")
    assert _run(store, run.id) == before
    # AND a worker started after the resumption can
    RunProgress(store, run.id).advance(RunStatus.CLONING)
    assert _run(store, run.id).status is RunStatus.CLONING

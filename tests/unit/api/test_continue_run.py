"""continueRun: a run a limit stopped goes on as the same attempt with raised limits; anything else is refused."""

from __future__ import annotations

from core.errors import RunErrorKind
from core.models import Message, RunStatus, Thread
from core.services.progress import RunProgress

CONTINUE = """mutation($run: ID!, $budget: BudgetInput!) { continueRun(runId: $run, budget: $budget) {
  __typename ... on InputError { message field }
  ... on Job { status repositories { status attempt error { kind } resumptions { reason fromTurn } } } } }"""


def _stopped_at_turn_limit(
    store, run_id: str, kind: RunErrorKind = RunErrorKind.TURN_LIMIT, message: str = "Claude used its 1 turn."
) -> None:
    progress = RunProgress(store, run_id)
    progress.advance(status=RunStatus.RUNNING_AGENT)
    thread = Thread(run_id=run_id, model="claude-test")
    thread.messages = [
        Message(index=0, role="user", content=[{"type": "text", "text": "go"}]),
        Message(index=1, role="assistant", content=[{"type": "text", "text": "thinking"}], stop_reason="end_turn"),
    ]
    progress.save_thread(thread)
    progress.fail(kind, message)


async def test_continue_run_resumes_the_same_attempt_and_dispatches_it(gql, seed_job, store, dispatcher) -> None:
    # GIVEN a run stopped by its turn limit after one turn
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    _stopped_at_turn_limit(store, run_id)
    # WHEN it is continued with more turns
    _, body = await gql(CONTINUE, {"run": run_id, "budget": {"maxTurns": 5}})
    # THEN it is pending again at attempt 1, continued from turn 1, and dispatched
    payload = body["data"]["continueRun"]
    assert payload["__typename"] == "Job" and payload["status"] == "QUEUED"
    assert payload["repositories"] == [
        {"status": "PENDING", "attempt": 1, "error": None, "resumptions": [{"reason": "CONTINUED", "fromTurn": 1}]}
    ]
    assert dispatcher.dispatched[-1] == (job.id, [0])
    stored = store.get_run(run_id)
    assert stored is not None and stored.budget is not None and stored.budget.max_turns == 5


async def test_continue_run_refuses_a_bad_budget_and_changes_nothing(gql, seed_job, store, dispatcher) -> None:
    # GIVEN a run stopped by its turn limit
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    _stopped_at_turn_limit(store, run_id)
    store_run = store.get_run(run_id)
    assert store_run is not None
    dispatched = list(dispatcher.dispatched)
    # WHEN a budget out of range is given, THEN it is an InputError naming the field, and nothing changed
    _, body = await gql(CONTINUE, {"run": run_id, "budget": {"maxTurns": 0}})
    assert body["data"]["continueRun"]["field"] == "budget.maxTurns"
    assert store.get_run(run_id) == store_run
    assert dispatcher.dispatched == dispatched


async def test_continue_run_of_a_pending_run_is_an_input_error(gql, seed_job, store, dispatcher) -> None:
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    dispatched = list(dispatcher.dispatched)
    _, body = await gql(CONTINUE, {"run": run_id, "budget": {"maxTurns": 5}})
    assert body["data"]["continueRun"]["__typename"] == "InputError"
    assert dispatcher.dispatched == dispatched


async def test_continue_run_of_an_unknown_run_is_not_found(gql) -> None:
    _, body = await gql(CONTINUE, {"run": "nope", "budget": {"maxTurns": 5}})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_continue_run_with_no_more_turns_than_taken_is_an_input_error(gql, seed_job, store, dispatcher) -> None:
    # GIVEN a run stopped by its turn limit after one turn
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    _stopped_at_turn_limit(store, run_id)
    before = store.get_run(run_id)
    dispatched = list(dispatcher.dispatched)
    # WHEN it is continued with a limit of 1 turn, THEN that is refused and nothing changes
    _, body = await gql(CONTINUE, {"run": run_id, "budget": {"maxTurns": 1}})
    assert body["data"]["continueRun"] == {
        "__typename": "InputError",
        "message": "maxTurns must be above the 1 turns the run already took",
        "field": "budget.maxTurns",
    }
    assert store.get_run(run_id) == before
    assert dispatcher.dispatched == dispatched


CONTINUE_JOB = """mutation($run: ID!, $limit: Float) { continueRun(runId: $run, budget: {}, maxJobCostUsd: $limit) {
  __typename ... on InputError { message field } ... on Job { maxJobCostUsd repositories { status } } } }"""


async def test_a_run_the_jobs_cost_limit_stopped_goes_on_only_with_a_higher_job_limit(
    gql, seed_job, store, dispatcher
) -> None:
    # GIVEN a run stopped by its job's cost limit, its error saying so
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    _stopped_at_turn_limit(store, run_id, RunErrorKind.JOB_BUDGET, "The job cost $20.0001 (its limit $20.00).")
    _, shown = await gql(
        "query($id: ID!) { job(id: $id) { maxJobCostUsd repositories { error { kind } } } }", {"id": job.id}
    )
    assert shown["data"]["job"] == {"maxJobCostUsd": None, "repositories": [{"error": {"kind": "JOB_BUDGET"}}]}
    before, dispatched = store.get_run(run_id), list(dispatcher.dispatched)
    # WHEN it is continued without a job limit THEN that is an InputError naming maxJobCostUsd, and nothing changed
    _, body = await gql(CONTINUE_JOB, {"run": run_id, "limit": None})
    assert body["data"]["continueRun"]["__typename"] == "InputError"
    assert body["data"]["continueRun"]["field"] == "maxJobCostUsd"
    assert "stopped by its job's cost limit" in body["data"]["continueRun"]["message"]
    assert store.get_run(run_id) == before and dispatcher.dispatched == dispatched
    # WHEN it is continued with a higher job limit THEN it is pending again and the job shows its new limit
    _, body = await gql(CONTINUE_JOB, {"run": run_id, "limit": 40.0})
    assert body["data"]["continueRun"] == {
        "__typename": "Job",
        "maxJobCostUsd": 40.0,
        "repositories": [{"status": "PENDING"}],
    }
    assert dispatcher.dispatched[-1] == (job.id, [0])

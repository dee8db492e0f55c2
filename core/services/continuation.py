"""Continue a run that a limit stopped: same attempt, raised limits, from its stored thread and checkpoint."""

from __future__ import annotations

from core.errors import InputError, NotFoundError, RunErrorKind
from core.models import Budget, Job, RepositoryRun, ResumeReason, Resumption, RunStatus
from core.ports import Dispatcher, Store
from core.services.jobs import check_budget
from core.services.progress import load_thread
from core.services.updates import update_runs

STOPPED_BY = {
    RunErrorKind.BUDGET: "its budget",
    RunErrorKind.TURN_LIMIT: "its turn limit",
    RunErrorKind.TIMEOUT: "its time limit",
}
CONTINUABLE = frozenset(STOPPED_BY)


def raised_budget(job: Job, run: RepositoryRun, budget: Budget) -> Budget:
    """The run's limits with `budget`'s fields over them (unset fields keep the run's, then the job's)."""
    current = run.budget or job.budget
    given = check_budget(budget).model_dump(exclude_none=True)
    return current.model_copy(update=given)


def resumed(run: RepositoryRun, reason: ResumeReason, from_turn: int, cause: str, **update: object) -> RepositoryRun:
    """The run back to PENDING at the same attempt, recording that it goes on from `from_turn` and why."""
    record = Resumption(reason=reason, from_turn=from_turn, cause=cause)
    fields = {"status": RunStatus.PENDING, "error": None, "step": None, "finished_at": None}
    return run.model_copy(update={**fields, **update, "resumptions": [*run.resumptions, record]})


def _limits(budget: Budget) -> str:
    """The limits a continued run goes on with, in words."""
    named = {"max_turns": "at most {} turns", "max_tokens": "at most {} tokens", "max_cost_usd": "at most ${}"}
    given = [text.format(value) for name, text in named.items() if (value := getattr(budget, name)) is not None]
    return ", ".join(given) or "the server's limits"


def continue_run(store: Store, dispatcher: Dispatcher, run_id: str, budget: Budget) -> Job:
    """Continue a run that ended BUDGET, TURN_LIMIT or TIMEOUT with a raised `budget`; InputError otherwise."""
    found = store.get_run(run_id)
    job = store.get_job(found.job_id) if found is not None else None
    if found is None or job is None:
        raise NotFoundError(f"no run with id {run_id}")
    thread = load_thread(store, found)
    if thread is None:
        raise InputError(f"run {run_id} has no stored thread to continue from", "runId")
    from_turn = thread.turns

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        run = next(r for r in runs if r.id == run_id)
        kind = run.error.kind if run.error is not None else None
        if run.status is not RunStatus.FAILED or kind not in CONTINUABLE:
            raise InputError(
                f"run {run_id} is {run.status}{f' ({kind})' if kind else ''}; only a run stopped by its budget, "
                "turn limit or time limit can be continued",
                "runId",
            )
        raised = raised_budget(job, run, budget)
        if kind is RunErrorKind.TURN_LIMIT and raised.max_turns is not None and raised.max_turns <= from_turn:
            raise InputError(f"maxTurns must be above the {from_turn} turns the run already took", "budget.maxTurns")
        cause = f"continued by the user after {STOPPED_BY[kind]}, with {_limits(raised)}"
        return {run.id: resumed(run, ResumeReason.CONTINUED, from_turn, cause, budget=raised)}

    updated = update_runs(store, job.id, mutate)
    dispatcher.dispatch(job.id, [found.index])
    return updated

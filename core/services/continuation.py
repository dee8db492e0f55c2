"""Continue a run that a limit stopped (with raised limits), or whose worker or server died once its resumptions
were used up: the same attempt, from its stored thread and checkpoint.

A run stopped by its job's cost limit (JOB_BUDGET) is shared with the job's other runs: raising the
run's own limits cannot take it past it, so it is continued only with a job limit above what the
job has spent, which the job then keeps (its other runs go on under it too).
"""

from __future__ import annotations

from core.errors import InputError, NotFoundError, RunErrorKind
from core.limits import MAX_COST_LIMIT_USD
from core.models import Budget, Job, RepositoryRun, ResumeReason, Resumption, RunStatus
from core.ports import Dispatcher, Store
from core.services.jobs import check_budget
from core.services.progress import load_thread
from core.services.updates import job_usage, update_runs

STOPPED_BY = {
    RunErrorKind.BUDGET: "its budget",
    RunErrorKind.JOB_BUDGET: "its job's cost limit",
    RunErrorKind.TURN_LIMIT: "its turn limit",
    RunErrorKind.TIMEOUT: "its time limit",
    # Failed once the resumptions the server makes on its own were used up: the user may go on by hand,
    # with the same limits or raised ones, instead of a retry that clones again and pays every turn again.
    RunErrorKind.INTERRUPTED: "the server stopped",
    RunErrorKind.WORKER_DIED: "its worker died",
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
    # It names no Batch job until its next one is recorded: the one it named ran what stopped it, and a late
    # FAILED event of that job (EventBridge delivers at least once, in any order) must find no run to resume.
    fields = {"status": RunStatus.PENDING, "error": None, "step": None, "finished_at": None, "batch_job_id": None}
    return run.model_copy(update={**fields, **update, "resumptions": [*run.resumptions, record]})


def _limits(budget: Budget) -> str:
    """The limits a continued run goes on with, in words."""
    named = {"max_turns": "at most {} turns", "max_tokens": "at most {} tokens", "max_cost_usd": "at most ${}"}
    given = [text.format(value) for name, text in named.items() if (value := getattr(budget, name)) is not None]
    return ", ".join(given) or "the server's limits"


def job_limit(spent: float, kind: RunErrorKind | None, max_job_cost_usd: float | None) -> dict[str, object]:
    """The job's fields a continuation sets: a job cost limit above the `spent` USD, required for a
    run that limit stopped; InputError naming `maxJobCostUsd` otherwise."""
    if max_job_cost_usd is None:
        if kind is RunErrorKind.JOB_BUDGET:
            raise InputError(
                f"the run was stopped by its job's cost limit (all its runs together; ${spent:.2f} spent): "
                "continue it with maxJobCostUsd above that",
                "maxJobCostUsd",
            )
        return {}
    if not spent < max_job_cost_usd <= MAX_COST_LIMIT_USD:
        raise InputError(
            f"maxJobCostUsd must be above the ${spent:.2f} the job has spent and at most {MAX_COST_LIMIT_USD:g}",
            "maxJobCostUsd",
        )
    return {"max_job_cost_usd": max_job_cost_usd}


def continue_run(
    store: Store, dispatcher: Dispatcher, run_id: str, budget: Budget, max_job_cost_usd: float | None = None
) -> Job:
    """Continue a run that ended BUDGET, JOB_BUDGET, TURN_LIMIT or TIMEOUT with a raised `budget` (and,
    for JOB_BUDGET, a raised `max_job_cost_usd`), or INTERRUPTED or WORKER_DIED with `budget`'s limits (if
    any) over its own; InputError otherwise."""
    found = store.get_run(run_id)
    job = store.get_job(found.job_id) if found is not None else None
    if found is None or job is None:
        raise NotFoundError(f"no run with id {run_id}")
    thread = load_thread(store, found)
    if thread is None:
        raise InputError(f"run {run_id} has no stored thread to continue from; retry it instead", "runId")
    from_turn = thread.turns
    job_fields: dict[str, object] = {}

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        run = next(r for r in runs if r.id == run_id)
        kind = run.error.kind if run.error is not None else None
        if run.status is not RunStatus.FAILED or kind not in CONTINUABLE:
            raise InputError(
                f"run {run_id} is {run.status}{f' ({kind})' if kind else ''}; only a run stopped by its budget, "
                "its job's cost limit, its turn limit or its time limit, or failed INTERRUPTED or WORKER_DIED, "
                "can be continued",
                "runId",
            )
        # Filled here, on the rows of this try, and read by update_runs when it writes the job.
        job_fields.update(job_limit(job_usage(runs).cost_usd, kind, max_job_cost_usd))
        raised = raised_budget(job, run, budget)
        if kind is RunErrorKind.TURN_LIMIT and raised.max_turns is not None and raised.max_turns <= from_turn:
            raise InputError(f"maxTurns must be above the {from_turn} turns the run already took", "budget.maxTurns")
        limits = _limits(raised) + (f", the job at most ${max_job_cost_usd}" if job_fields else "")
        cause = f"continued by the user after {STOPPED_BY[kind]}, with {limits}"
        return {run.id: resumed(run, ResumeReason.CONTINUED, from_turn, cause, budget=raised)}

    updated = update_runs(store, job.id, mutate, job_fields=job_fields)
    dispatcher.dispatch(job.id, [found.index])
    return updated

"""Acting on many pull requests of a job at once: publish, comment, close, merge, delete the branch."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import CodyBatchError, InputError, NotFoundError
from core.models import ActionOutcome, ActionResult, PullRequestAction, PullRequestState, RepositoryRun
from core.ports import PullRequestHost, Store
from core.services.pull_requests import refresh_pull_requests, repository_of

MAX_COMMENT = 65_536  # GitHub's limit on a comment body

# Which states each action applies to; any other is skipped with the reason.
_APPLIES: dict[PullRequestAction, tuple[set[PullRequestState], str]] = {
    PullRequestAction.PUBLISH: ({PullRequestState.DRAFT}, "is not a draft"),
    PullRequestAction.COMMENT: (set(PullRequestState), ""),
    PullRequestAction.CLOSE: ({PullRequestState.OPEN, PullRequestState.DRAFT}, "is not open"),
    PullRequestAction.MERGE: ({PullRequestState.OPEN}, "is not open and ready for review"),
    PullRequestAction.DELETE_BRANCH: ({PullRequestState.MERGED, PullRequestState.CLOSED}, "is still open"),
}
_VERBS = {
    PullRequestAction.PUBLISH: "mark ready for review",
    PullRequestAction.COMMENT: "comment on",
    PullRequestAction.CLOSE: "close",
    PullRequestAction.MERGE: "merge",
    PullRequestAction.DELETE_BRANCH: "delete the branch of",
}


def _result(run: RepositoryRun, outcome: ActionOutcome, message: str) -> ActionResult:
    pr = run.pull_request
    return ActionResult(
        run_id=run.id,
        location=run.location,
        number=pr.number if pr else None,
        url=pr.url if pr else None,
        outcome=outcome,
        message=message,
    )


def _call(host: PullRequestHost, action: PullRequestAction, run: RepositoryRun, comment: str) -> Callable[[], None]:
    repository, pr = repository_of(run), run.pull_request
    assert repository is not None and pr is not None
    calls: dict[PullRequestAction, Callable[[], None]] = {
        PullRequestAction.PUBLISH: lambda: host.publish(repository, pr.number),
        PullRequestAction.COMMENT: lambda: host.comment(repository, pr.number, comment),
        PullRequestAction.CLOSE: lambda: host.close(repository, pr.number),
        PullRequestAction.MERGE: lambda: host.merge(repository, pr.number),
        PullRequestAction.DELETE_BRANCH: lambda: host.delete_branch(repository, pr.branch),
    }
    return calls[action]


def act_on_pull_requests(
    store: Store,
    host: PullRequestHost,
    job_id: str,
    action: PullRequestAction,
    run_ids: list[str] | None = None,
    comment: str | None = None,
    dry_run: bool = False,
) -> list[ActionResult]:
    """Apply `action` to the pull requests of the named runs (default: every run with one), one result each.

    The pull requests are refreshed first, so each decision is on GitHub's current state; after
    the writes they are refreshed again, so the changes are stored and are events. One pull
    request failing (branch protection, a rate limit that outlasts the wait) does not stop the others.
    """
    text = (comment or "").strip()
    if action is PullRequestAction.COMMENT and not text:
        raise InputError("COMMENT needs a comment", "comment")
    if len(text) > MAX_COMMENT:
        raise InputError(f"the comment is over {MAX_COMMENT} characters", "comment")
    runs = store.get_runs([job_id]).get(job_id, [])
    if store.get_job(job_id) is None:
        raise NotFoundError(f"no job with id {job_id}")
    unknown = sorted(set(run_ids or []) - {r.id for r in runs})
    if unknown:
        raise InputError(f"job {job_id} has no run with id {unknown[0]}", "runIds")
    chosen = [r for r in runs if (r.id in run_ids if run_ids is not None else r.pull_request is not None)]
    with_pr = [r.id for r in chosen if r.pull_request is not None and repository_of(r) is not None]
    if with_pr:
        refresh_pull_requests(store, host, job_id, with_pr)
        fresh = {r.id: r for r in store.get_runs([job_id]).get(job_id, [])}
        chosen = [fresh[r.id] for r in chosen]
    results = [_act(host, action, run, text, dry_run) for run in chosen]
    done = [r.run_id for r in results if r.outcome is ActionOutcome.DONE]
    if done:
        refresh_pull_requests(store, host, job_id, done)
    return results


def _act(
    host: PullRequestHost, action: PullRequestAction, run: RepositoryRun, text: str, dry_run: bool
) -> ActionResult:
    pr = run.pull_request
    if pr is None or repository_of(run) is None:
        return _result(run, ActionOutcome.SKIPPED, "no pull request")
    states, why = _APPLIES[action]
    if pr.state not in states:
        return _result(run, ActionOutcome.SKIPPED, f"#{pr.number} {why} ({pr.state.value.lower()})")
    verb = _VERBS[action]
    if dry_run:
        return _result(run, ActionOutcome.WOULD_DO, f"would {verb} #{pr.number}")
    try:
        _call(host, action, run, text)()
    except CodyBatchError as err:
        return _result(run, ActionOutcome.FAILED, str(err))
    return _result(run, ActionOutcome.DONE, f"{verb} #{pr.number}: done")

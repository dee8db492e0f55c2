"""Acting on a job's pull requests at once, on an in-memory host: which apply, what each result says."""

from __future__ import annotations

import pytest

from core.errors import InputError, NotFoundError
from core.models import ActionOutcome, EventKind, PullRequestAction, PullRequestState, RepositoryRun, RunStatus
from core.services.pull_request_actions import MAX_COMMENT, act_on_pull_requests
from store.sqlite import SqliteStore
from tests.fakes.pull_request_host import MemoryPullRequestHost
from tests.unit.core.pull_request_runs import pull_request_job, pull_request_run, store_job

A = PullRequestAction
NAMES = ["acme/one", "acme/two", "acme/three"]


def _results(results: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r.outcome.value, r.message) for r in results]


@pytest.mark.parametrize(
    ("action", "outcomes", "writes"),
    [
        (
            A.PUBLISH,
            [
                ("DONE", "mark ready for review #1: done"),
                ("SKIPPED", "#2 is not a draft (open)"),
                ("SKIPPED", "#3 is not a draft (merged)"),
            ],
            [("publish", "acme/one", 1)],
        ),
        (
            A.CLOSE,
            [("DONE", "close #1: done"), ("DONE", "close #2: done"), ("SKIPPED", "#3 is not open (merged)")],
            [("close", "acme/one", 1), ("close", "acme/two", 2)],
        ),
        (
            A.MERGE,
            [
                ("SKIPPED", "#1 is not open and ready for review (draft)"),
                ("DONE", "merge #2: done"),
                ("SKIPPED", "#3 is not open and ready for review (merged)"),
            ],
            [("merge", "acme/two", 2)],
        ),
        (
            A.DELETE_BRANCH,
            [
                ("SKIPPED", "#1 is still open (draft)"),
                ("SKIPPED", "#2 is still open (open)"),
                ("DONE", "delete the branch of #3: done"),
            ],
            [("delete_branch", "acme/three", "cody-batch/{job}")],
        ),
    ],
)
def test_each_action_applies_to_the_states_it_fits_and_skips_the_others_saying_why(
    store: SqliteStore,
    action: PullRequestAction,
    outcomes: list[tuple[str, str]],
    writes: list[tuple[str, str, object]],
) -> None:
    # GIVEN a job with a draft, an open and a merged pull request, as stored before GitHub was asked
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, NAMES, draft=True)
    host.set("acme/two", 2, PullRequestState.OPEN)
    host.set("acme/three", 3, PullRequestState.MERGED)
    # WHEN the action is applied to all of them
    results = act_on_pull_requests(store, host, job.id, action)
    # THEN each decision was taken on GitHub's current state, one result per run, in order
    assert [r.run_id for r in results] == [r.id for r in runs]
    assert [(r.location, r.number, r.url) for r in results] == [
        (f"https://github.com/{n}", i + 1, f"https://github.com/{n}/pull/{i + 1}") for i, n in enumerate(NAMES)
    ]
    assert _results(results) == outcomes
    assert host.writes == [(w, r, str(x).format(job=job.id) if isinstance(x, str) else x) for w, r, x in writes]


def test_what_an_action_did_is_read_back_and_stored_as_events(store: SqliteStore) -> None:
    # GIVEN a job with two open pull requests
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two"])
    # WHEN the first is merged
    results = act_on_pull_requests(store, host, job.id, A.MERGE, [runs[0].id])
    # THEN only it was merged, then read again: stored merged with its event, the other untouched
    assert _results(results) == [("DONE", "merge #1: done")]
    assert [r.repository for r in host.reads] == ["acme/one", "acme/one"]
    stored = store.get_runs([job.id])[job.id]
    assert [r.pull_request.state for r in stored if r.pull_request] == [PullRequestState.MERGED, PullRequestState.OPEN]
    events = [(e.run_id, e.new_value) for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST]
    assert events == [
        (runs[0].id, "state=OPEN checks=NONE review=NONE"),  # the read before deciding
        (runs[0].id, "state=MERGED checks=NONE review=NONE"),  # the read after merging
    ]


def test_a_comment_goes_to_every_pull_request_trimmed(store: SqliteStore) -> None:
    # GIVEN a draft and a merged pull request
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one", "acme/two"], draft=True)
    host.set("acme/two", 2, PullRequestState.MERGED)
    # WHEN both get a comment THEN each gets it, without the surrounding whitespace
    results = act_on_pull_requests(store, host, job.id, A.COMMENT, comment="  Please rebase.\n")
    assert _results(results) == [("DONE", "comment on #1: done"), ("DONE", "comment on #2: done")]
    assert host.writes == [("comment", "acme/one", "Please rebase."), ("comment", "acme/two", "Please rebase.")]


def test_a_dry_run_says_what_would_happen_and_writes_nothing(store: SqliteStore) -> None:
    # GIVEN two open pull requests
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one", "acme/two"])
    # WHEN a close is tried dry THEN each says it would close, nothing is written and nothing read again
    results = act_on_pull_requests(store, host, job.id, A.CLOSE, dry_run=True)
    assert _results(results) == [("WOULD_DO", "would close #1"), ("WOULD_DO", "would close #2")]
    assert host.writes == [] and len(host.reads) == 2
    assert [r.pull_request.state for r in store.get_runs([job.id])[job.id] if r.pull_request] == [
        PullRequestState.OPEN,
        PullRequestState.OPEN,
    ]


def test_one_pull_request_failing_does_not_stop_the_others_and_is_not_read_again(store: SqliteStore) -> None:
    # GIVEN two open pull requests, GitHub refusing to merge the first
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two"])
    refused = "merge pull request #1 of acme/one: Required status check 'ci' is expected (405)"
    act_on_pull_requests(store, host, job.id, A.COMMENT, comment="first")  # reads both once, so both are synced
    host.reads.clear()
    host.failing[("acme/one", 1)] = refused
    # WHEN both are merged THEN the first fails with GitHub's reason, the second is merged
    results = act_on_pull_requests(store, host, job.id, A.MERGE)
    assert _results(results) == [("FAILED", refused), ("DONE", "merge #2: done")]
    # AND after the writes only the merged one was read again
    assert [r.repository for r in host.reads] == ["acme/one", "acme/two", "acme/two"]
    assert runs[1].id in {r.run_id for r in results if r.outcome is ActionOutcome.DONE}


def test_runs_without_a_pull_request_are_skipped_when_named_and_left_out_otherwise(store: SqliteStore) -> None:
    # GIVEN a job with a pull request, a run that opened none, a run that pushed its branch but opened none,
    # and a run whose pull request names no repository GitHub knows
    host = MemoryPullRequestHost()
    with_pr = pull_request_run("job", 0, "acme/one", 1)
    host.set("acme/one", 1, PullRequestState.OPEN)
    failed = RepositoryRun(job_id="job", index=1, location="https://github.com/acme/two", status=RunStatus.FAILED)
    pushed = pull_request_run("job", 2, "acme/three", 3).model_copy(update={"pull_request": None})
    odd = pull_request_run("job", 3, "acme/four", 4).model_copy(update={"branch": None})
    assert odd.pull_request is not None
    odd = odd.model_copy(update={"pull_request": odd.pull_request.model_copy(update={"url": "https://example.com/4"})})
    job = store_job(store, [with_pr, failed, pushed, odd])
    runs = store.get_runs([job.id])[job.id]
    # WHEN the action names no runs THEN only the runs with a pull request are acted on
    results = act_on_pull_requests(store, host, job.id, A.CLOSE)
    assert _results(results) == [("DONE", "close #1: done"), ("SKIPPED", "no pull request")]
    # WHEN it names the runs without one THEN each is skipped, nothing read or written for it
    host.reads.clear()
    named = [r.id for r in runs[1:]]
    results = act_on_pull_requests(store, host, job.id, A.CLOSE, named)
    assert [(r.run_id, r.outcome, r.message) for r in results] == [
        (run_id, ActionOutcome.SKIPPED, "no pull request") for run_id in named
    ]
    assert [(r.number, r.url) for r in results] == [(None, None), (None, None), (4, "https://example.com/4")]
    assert host.reads == [] and host.writes == [("close", "acme/one", 1)]


@pytest.mark.parametrize(
    ("action", "comment", "field", "message"),
    [
        (A.COMMENT, None, "comment", "COMMENT needs a comment"),
        (A.COMMENT, " \n ", "comment", "COMMENT needs a comment"),
        (A.COMMENT, "x" * (MAX_COMMENT + 1), "comment", f"the comment is over {MAX_COMMENT} characters"),
        (A.CLOSE, "x" * (MAX_COMMENT + 1), "comment", f"the comment is over {MAX_COMMENT} characters"),
    ],
)
def test_a_missing_or_oversized_comment_is_an_input_error_and_changes_nothing(
    store: SqliteStore, action: PullRequestAction, comment: str | None, field: str, message: str
) -> None:
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    with pytest.raises(InputError) as err:
        act_on_pull_requests(store, host, job.id, action, comment=comment)
    assert (err.value.field, err.value.message) == (field, message)
    assert host.reads == [] and host.writes == [] and store.get_job(job.id) == job


def test_a_comment_of_the_largest_size_is_accepted(store: SqliteStore) -> None:
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    results = act_on_pull_requests(store, host, job.id, A.COMMENT, comment="x" * MAX_COMMENT)
    assert _results(results) == [("DONE", "comment on #1: done")]


def test_an_unknown_job_or_run_changes_nothing(store: SqliteStore) -> None:
    # GIVEN a job with one pull request
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one"])
    # WHEN the job is unknown THEN it is not found
    with pytest.raises(NotFoundError, match="no job with id nope"):
        act_on_pull_requests(store, host, "nope", A.CLOSE)
    # WHEN a run is unknown THEN the first unknown id (in sorted order) is named, in runIds
    with pytest.raises(InputError) as err:
        act_on_pull_requests(store, host, job.id, A.CLOSE, [runs[0].id, "zz", "aa"])
    assert (err.value.field, err.value.message) == ("runIds", f"job {job.id} has no run with id aa")
    assert host.reads == [] and host.writes == []

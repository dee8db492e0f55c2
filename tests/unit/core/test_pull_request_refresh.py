"""Refreshing a job's pull requests from their host: stored states, events, the tally, the delivery index."""

from __future__ import annotations

import pytest

from core.errors import NotFoundError
from core.models import (
    Branch,
    ChecksState,
    EventKind,
    PullRequest,
    PullRequestState,
    PullRequestStatus,
    RepositoryRun,
    ReviewDecision,
    RunStatus,
)
from core.services.pull_request_index import branch_key, index_pull_request, number_key, runs_named
from core.services.pull_requests import (
    record_statuses,
    refresh_open_pull_requests,
    refresh_pull_requests,
    repository_of,
    tally,
)
from store.sqlite import SqliteStore
from tests.fakes.pull_request_host import MemoryPullRequestHost
from tests.unit.core.pull_request_runs import pull_request_job, pull_request_run, store_job

F, S = ChecksState.FAILURE, ChecksState.SUCCESS


def _prs(store: SqliteStore, job_id: str) -> list[PullRequest]:
    return [run.pull_request for run in store.get_runs([job_id])[job_id] if run.pull_request is not None]


def _with_status(
    state: PullRequestState | None, checks: ChecksState = ChecksState.NONE, draft: bool = False
) -> RepositoryRun:
    run = pull_request_run("job", 0, "acme/app", 1, draft=draft)
    assert run.pull_request is not None
    status = None if state is None else PullRequestStatus(state=state, checks=checks)
    return run.model_copy(update={"pull_request": run.pull_request.model_copy(update={"status": status})})


def test_the_tally_counts_each_last_known_state_and_failing_checks_of_pull_requests_not_closed() -> None:
    # GIVEN runs: none with a pull request, two never synced (open, draft), and synced ones in every state
    runs = [
        RepositoryRun(job_id="job", index=0, location="/srv/a"),
        _with_status(None),
        _with_status(None, draft=True),
        _with_status(PullRequestState.OPEN, F),
        _with_status(PullRequestState.OPEN, S),
        _with_status(PullRequestState.DRAFT, F),
        _with_status(PullRequestState.MERGED, F),
        _with_status(PullRequestState.CLOSED, F),
        _with_status(PullRequestState.CLOSED),
    ]
    # WHEN tallied THEN each state is counted once per pull request, and failing checks count unless closed
    counts = tally(runs)
    assert (counts.open, counts.draft, counts.merged, counts.closed) == (3, 2, 1, 2)
    assert counts.checks_failing == 3


@pytest.mark.parametrize(
    ("branch", "url", "expected"),
    [
        ("acme/branch-repo", "https://github.com/acme/other/pull/1", "acme/branch-repo"),
        (None, "https://github.com/Acme/App/pull/7", "acme/app"),
        (None, "github.com/acme/app/pull/7", "acme/app"),
        (None, "https://github.com/acme/app/issues/7", None),
        (None, "app/pull/7", None),
        (None, None, None),
    ],
)
def test_the_repository_of_a_run_is_its_branchs_else_parsed_from_the_pull_request_url(
    branch: str | None, url: str | None, expected: str | None
) -> None:
    # GIVEN a run with (or without) a pushed branch and a pull request at `url`
    pr = None if url is None else PullRequest(url=url, number=7, branch="b")
    run = RepositoryRun(
        job_id="job",
        index=0,
        location="https://github.com/acme/app",
        branch=None if branch is None else Branch(repository=branch, name="b"),
        pull_request=pr,
    )
    # WHEN its repository is asked THEN it is the branch's, else GitHub's owner/name from the URL, else None
    assert repository_of(run) == expected


def test_a_refresh_stores_the_hosts_answer_on_each_run_with_an_event_per_change(store: SqliteStore) -> None:
    # GIVEN three open pull requests: one merged, one closed, one approved with failing checks
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two", "acme/three"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    host.set("acme/two", 2, PullRequestState.CLOSED)
    host.set("acme/three", 3, PullRequestState.OPEN, checks=F, review_decision=ReviewDecision.APPROVED)
    # WHEN the job's pull requests are refreshed
    refreshed = refresh_pull_requests(store, host, job.id)
    # THEN each was read once, as never read before, and stores the host's state with the time of the sync
    assert [(r.repository, r.number, r.known) for r in host.reads] == [
        ("acme/one", 1, None),
        ("acme/two", 2, None),
        ("acme/three", 3, None),
    ]
    prs = _prs(store, job.id)
    assert [pr.state for pr in prs] == [PullRequestState.MERGED, PullRequestState.CLOSED, PullRequestState.OPEN]
    assert all(pr.synced_at is not None for pr in prs)
    # AND every change is a PULL_REQUEST event of its run, from the state it was opened in
    events = [e for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST]
    assert [(e.run_id, e.old_value, e.new_value) for e in events] == [
        (runs[0].id, "state=OPEN", "state=MERGED checks=NONE review=NONE"),
        (runs[1].id, "state=OPEN", "state=CLOSED checks=NONE review=NONE"),
        (runs[2].id, "state=OPEN", "state=OPEN checks=FAILURE review=APPROVED"),
    ]
    # AND the job returned is the one stored, events included
    assert refreshed == store.get_job(job.id) and refreshed.last_seq == store.list_events(job.id)[-1].seq


def test_a_second_refresh_sends_what_it_knows_and_an_unchanged_pull_request_writes_no_event(
    store: SqliteStore,
) -> None:
    # GIVEN two pull requests refreshed once
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one", "acme/two"])
    refresh_pull_requests(store, host, job.id)
    known = [pr.status for pr in _prs(store, job.id)]
    before = store.list_events(job.id)[-1].seq
    host.reads.clear()
    # WHEN only the first one's checks change and the job is refreshed again
    host.set("acme/one", 1, PullRequestState.OPEN, checks=S)
    refresh_pull_requests(store, host, job.id)
    # THEN each read carried the status stored by the last one
    assert [r.known for r in host.reads] == known
    # AND the one change is the only new event
    new = store.list_events(job.id, before)
    assert [(e.kind, e.old_value, e.new_value) for e in new] == [
        (EventKind.PULL_REQUEST, "state=OPEN checks=NONE review=NONE", "state=OPEN checks=SUCCESS review=NONE")
    ]


def test_a_refresh_of_named_runs_reads_only_those(store: SqliteStore) -> None:
    # GIVEN two pull requests, both merged on the host
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    host.set("acme/two", 2, PullRequestState.MERGED)
    # WHEN only the second run's is refreshed THEN only it is read and stored
    refresh_pull_requests(store, host, job.id, [runs[1].id])
    assert [r.repository for r in host.reads] == ["acme/two"]
    assert [pr.state for pr in _prs(store, job.id)] == [PullRequestState.OPEN, PullRequestState.MERGED]


def test_a_pull_request_the_host_cannot_read_keeps_its_state_and_the_others_are_stored(store: SqliteStore) -> None:
    # GIVEN two merged pull requests, the host failing to read the first
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one", "acme/two"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    host.set("acme/two", 2, PullRequestState.MERGED)
    host.failing[("acme/one", 1)] = "GitHub is unavailable (503)"
    # WHEN refreshed THEN the first keeps its state as opened, unsynced, and the second is merged
    refresh_pull_requests(store, host, job.id)
    one, two = _prs(store, job.id)
    assert one.status is None and one.synced_at is None
    assert two.state is PullRequestState.MERGED


def test_when_no_pull_request_can_be_read_nothing_is_written(store: SqliteStore) -> None:
    # GIVEN a pull request the host fails to read
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    host.failing[("acme/one", 1)] = "GitHub is unavailable (503)"
    # WHEN refreshed THEN the job is returned as it was, not written again
    assert refresh_pull_requests(store, host, job.id) == job == store.get_job(job.id)


def test_runs_without_a_pull_request_or_a_known_repository_are_not_read(store: SqliteStore) -> None:
    # GIVEN a job with a run that opened none and a run whose pull request URL names no repository
    host = MemoryPullRequestHost()
    no_pr = RepositoryRun(job_id="j", index=0, location="https://github.com/acme/one", status=RunStatus.SUCCEEDED)
    odd = RepositoryRun(
        job_id="j",
        index=1,
        location="https://github.com/acme/two",
        status=RunStatus.SUCCEEDED,
        pull_request=PullRequest(url="https://example.com/x", number=1, branch="b"),
    )
    job = store_job(store, [no_pr, odd])
    # WHEN refreshed THEN nothing is read and nothing written
    assert refresh_pull_requests(store, host, job.id) == job
    assert host.reads == []


def test_refreshing_an_unknown_job_is_not_found(store: SqliteStore) -> None:
    with pytest.raises(NotFoundError, match="no job with id nope"):
        refresh_pull_requests(store, MemoryPullRequestHost(), "nope")


def test_a_refresh_makes_pull_requests_opened_before_deliveries_were_followed_known_to_them(
    store: SqliteStore,
) -> None:
    # GIVEN a pull request stored without being indexed
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["Acme/One"], indexed=False)
    assert runs_named(store, [number_key("acme/one", 1)]) == {}
    # WHEN refreshed THEN deliveries find its run by number and by branch
    refresh_pull_requests(store, host, job.id)
    by_branch = branch_key("acme/one", f"cody-batch/{job.id}")
    assert runs_named(store, [number_key("acme/one", 1)]) == {job.id: {runs[0].id}}
    assert runs_named(store, [by_branch]) == {job.id: {runs[0].id}}


def test_the_index_finds_runs_by_repository_in_any_case_and_groups_them_by_job(store: SqliteStore) -> None:
    # GIVEN two runs of one job and one of another, indexed under mixed-case repositories
    a, b = pull_request_run("job-a", 0, "acme/one", 1), pull_request_run("job-a", 1, "acme/two", 2)
    c = pull_request_run("job-c", 0, "acme/one", 3)
    for run, repository in ((a, "Acme/One"), (b, "acme/two"), (c, "ACME/ONE")):
        index_pull_request(store, repository, run)
    # AND a run with no pull request, which indexes nothing
    index_pull_request(store, "acme/three", RepositoryRun(job_id="job-x", index=0, location="/srv/x"))
    # WHEN looked up by number and branch THEN each run is found once, under its job
    keys = [number_key("acme/one", 1), number_key("ACME/two", 2), branch_key("acme/one", "cody-batch/job-c")]
    assert runs_named(store, keys) == {"job-a": {a.id, b.id}, "job-c": {c.id}}
    # AND other numbers, branches or repositories find nothing
    misses = [number_key("acme/one", 2), branch_key("acme/one", "cody-batch/JOB-C"), number_key("acme/three", 1)]
    assert runs_named(store, misses) == {}


def test_a_status_for_a_pull_request_the_run_no_longer_has_is_dropped(store: SqliteStore) -> None:
    # GIVEN a run whose pull request is number 1, and a status read for number 2 (a retry opened another)
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two"])
    merged = PullRequestStatus(state=PullRequestState.MERGED)
    # WHEN both are recorded THEN only the matching one is stored, with its event
    record_statuses(store, job.id, {runs[0].id: (2, merged), runs[1].id: (2, merged)})
    assert [pr.state for pr in _prs(store, job.id)] == [PullRequestState.OPEN, PullRequestState.MERGED]
    assert [e.run_id for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST] == [runs[1].id]


def test_the_periodic_refresh_reads_only_open_and_draft_pull_requests_of_the_newest_jobs(store: SqliteStore) -> None:
    # GIVEN an older job with an open and a merged pull request, a job with only a closed one, a job without any,
    # and a newest job with a draft
    host = MemoryPullRequestHost()
    older, _ = pull_request_job(store, host, ["acme/one", "acme/two"])
    host.set("acme/two", 2, PullRequestState.MERGED)
    refresh_pull_requests(store, host, older.id, None)
    closed, _ = pull_request_job(store, host, ["acme/three"])
    host.set("acme/three", 1, PullRequestState.CLOSED)
    refresh_pull_requests(store, host, closed.id)
    store_job(store, [RepositoryRun(job_id="plain", index=0, location="/srv/a", status=RunStatus.SUCCEEDED)])
    pull_request_job(store, host, ["acme/four"], draft=True)
    host.reads.clear()
    # WHEN the newest three jobs are refreshed THEN only the newest job's draft is read: one job refreshed
    assert refresh_open_pull_requests(store, host, max_jobs=3) == 1
    assert [r.repository for r in host.reads] == ["acme/four"]
    # WHEN all are THEN the older job's open one is read too, not its merged one
    host.reads.clear()
    assert refresh_open_pull_requests(store, host) == 2
    assert sorted(r.repository for r in host.reads) == ["acme/four", "acme/one"]

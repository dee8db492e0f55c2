"""pullRequestAction over GraphQL against the fake GitHub: publish, comment, close, merge, delete the branch."""

from __future__ import annotations

from typing import Any

import httpx

from core.models import EventKind
from store.sqlite import SqliteStore
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.pull_request_jobs import pull_request_job

ACTION = """
mutation($job: ID!, $action: PullRequestAction!, $runs: [ID!], $comment: String, $dry: Boolean! = false) {
  pullRequestAction(jobId: $job, action: $action, runIds: $runs, comment: $comment, dryRun: $dry) {
    runId location number url outcome message
  }
}
"""


async def _act(client: httpx.AsyncClient, job_id: str, action: str, **variables: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": ACTION, "variables": {"job": job_id, "action": action, **variables}}
    )
    body: dict[str, Any] = response.json()
    return body


def _outcomes(body: dict[str, Any]) -> list[tuple[str, str]]:
    assert "errors" not in body, body
    return [(r["outcome"], r["message"]) for r in body["data"]["pullRequestAction"]]


async def test_publish_comment_and_merge_a_jobs_drafts_one_result_each(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job with three draft pull requests
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two", "acme/three"], draft=True)
    # WHEN they are published, commented on and merged, one call each
    published = _outcomes(await _act(pr_client, job.id, "PUBLISH"))
    commented = _outcomes(await _act(pr_client, job.id, "COMMENT", comment="Ready to go"))
    merged = _outcomes(await _act(pr_client, job.id, "MERGE"))
    # THEN each call did it to every pull request, and GitHub shows it
    assert published == [("DONE", f"mark ready for review #{n}: done") for n in (1, 2, 3)]
    assert [o for o, _ in commented] == ["DONE"] * 3
    assert fake_github.comments == [(f"acme/{n}", i, "Ready to go") for i, n in enumerate(["one", "two", "three"], 1)]
    assert [o for o, _ in merged] == ["DONE"] * 3
    assert all(p.merged and not p.draft for p in fake_github.pulls)
    # AND the job's pull requests are stored merged, each change an event
    runs = store.get_runs([job.id])[job.id]
    assert [r.pull_request.state.value for r in runs if r.pull_request] == ["MERGED"] * 3
    values = [e.new_value for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST]
    assert values.count("state=MERGED checks=NONE review=NONE") == 3


async def test_a_dry_run_says_what_would_happen_and_changes_nothing(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN one open and one merged pull request
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.merge_pull(2)
    # WHEN a close is tried as a dry run
    results = _outcomes(await _act(pr_client, job.id, "CLOSE", dry=True))
    # THEN it says what it would do and what it would skip, and GitHub received no write
    assert results == [("WOULD_DO", "would close #1"), ("SKIPPED", "#2 is not open (merged)")]
    assert fake_github.pull(1).state == "open"
    assert not [r for r in fake_github.requests if r.method != "GET"]


async def test_a_merge_refused_by_branch_protection_fails_with_githubs_reason_and_the_others_merge(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN two open pull requests; the second's repository requires an approving review
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.repos["acme/two"].required_approvals = 1
    # WHEN both are merged
    results = _outcomes(await _act(pr_client, job.id, "MERGE"))
    # THEN the first merged and the second failed with GitHub's reason, still open
    assert results[0][0] == "DONE"
    assert results[1][0] == "FAILED" and "approving review is required" in results[1][1]
    assert fake_github.pull(1).merged and not fake_github.pull(2).merged
    # AND no merge was forced: one PUT each, no admin override
    assert len(fake_github.requests_to("PUT", "/merge$")) == 2


async def test_a_secondary_rate_limit_mid_batch_is_waited_out_and_every_comment_lands(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN three pull requests and GitHub answering the second comment with a secondary rate limit once
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two", "acme/three"])
    fake_github.fail_secondary_rate_limit("POST", "^/repos/acme/two/issues/2/comments$", retry_after=1)
    # WHEN all three are commented on
    results = _outcomes(await _act(pr_client, job.id, "COMMENT", comment="ping"))
    # THEN every comment landed once, the limited one after its retry
    assert [o for o, _ in results] == ["DONE"] * 3
    assert [c[:2] for c in fake_github.comments] == [("acme/one", 1), ("acme/two", 2), ("acme/three", 3)]
    assert len(fake_github.requests_to("POST", "/comments$")) == 4


async def test_delete_branch_only_after_close_or_merge_and_input_errors(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN one merged and one open pull request
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    runs = store.get_runs([job.id])[job.id]
    fake_github.merge_pull(1)
    # WHEN their branches are deleted
    results = _outcomes(await _act(pr_client, job.id, "DELETE_BRANCH"))
    # THEN only the merged one's branch is gone
    assert results[0] == ("DONE", "delete the branch of #1: done")
    assert results[1] == ("SKIPPED", "#2 is still open (open)")
    branch = runs[0].pull_request.branch  # type: ignore[union-attr]
    assert fake_github.branch_head("acme/one", branch) is None and fake_github.branch_head("acme/two", branch)
    # AND a comment without text, or a run of another job, is a clear error that writes nothing
    writes = len([r for r in fake_github.requests if r.method != "GET"])
    empty = await _act(pr_client, job.id, "COMMENT", comment="  ")
    foreign = await _act(pr_client, job.id, "CLOSE", runs=["not-a-run"])
    assert "COMMENT needs a comment" in empty["errors"][0]["message"]
    assert "has no run with id not-a-run" in foreign["errors"][0]["message"]
    assert len([r for r in fake_github.requests if r.method != "GET"]) == writes

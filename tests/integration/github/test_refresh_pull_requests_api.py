"""refreshPullRequests over GraphQL: the job's tally and each pull request's state, from the fake GitHub."""

from __future__ import annotations

from typing import Any

import httpx

from core.settings import Settings
from server.runtime.container import Container
from server.web.app import create_app
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.pull_request_jobs import pull_request_job

REFRESH = """
mutation($id: ID!) { refreshPullRequests(jobId: $id) {
  pullRequests { open draft merged closed checksFailing }
  repositories { pullRequest { number state checks reviewDecision mergeable updatedAt syncedAt } }
} }
"""


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


async def test_refresh_pull_requests_returns_the_tally_and_each_state(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a three-repository pull-request job: two merged, one closed on GitHub, and a failing check
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two", "acme/three"])
    fake_github.add_check_run(1, "ci", "completed", "failure")
    fake_github.merge_pull(1)
    fake_github.merge_pull(2)
    fake_github.close_pull(3)
    # WHEN refreshPullRequests is called
    body = await _post(pr_client, REFRESH, {"id": job.id})
    # THEN the tally and each pull request say so
    assert "errors" not in body, body
    data = body["data"]["refreshPullRequests"]
    assert data["pullRequests"] == {"open": 0, "draft": 0, "merged": 2, "closed": 1, "checksFailing": 1}
    prs = [r["pullRequest"] for r in data["repositories"]]
    assert [p["state"] for p in prs] == ["MERGED", "MERGED", "CLOSED"]
    assert prs[0]["checks"] == "FAILURE" and prs[1]["checks"] == "NONE"
    assert all(p["syncedAt"] and p["updatedAt"] and p["reviewDecision"] == "NONE" for p in prs)
    assert all(p["mergeable"] is None for p in prs)  # GitHub does not say once closed


async def test_refresh_of_an_unknown_job_is_an_error_and_a_server_without_github_says_so(
    pr_client: httpx.AsyncClient, github_settings: Settings, store: SqliteStore
) -> None:
    # WHEN an unknown job is refreshed THEN the answer is a NOT_FOUND error
    body = await _post(pr_client, REFRESH, {"id": "nope"})
    assert body["data"] is None and "no job with id nope" in body["errors"][0]["message"]
    # GIVEN a server that reads no pull requests WHEN asked THEN it says so
    container = Container(settings=github_settings, store=store, dispatcher=RecordingDispatcher(), feed=store)
    transport = httpx.ASGITransport(app=create_app(container, spa_dir=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as bare:
        body = await _post(bare, REFRESH, {"id": "nope"})
    assert "does not read pull requests" in body["errors"][0]["message"]

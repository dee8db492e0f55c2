"""Mutations: createJob (Job | InputError), cancelJob, retryRepositories, and error policy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.models import RunStatus
from core.services.progress import RunProgress
from server.runtime.container import Container
from server.web.app import create_app
from tests.fakes.dispatcher import RecordingDispatcher
from tests.unit.api.conftest import job_count

CREATE = """mutation($input: CreateJobInput!) { createJob(input: $input) {
  __typename ... on InputError { message field }
  ... on Job { id status kind output repositories { index location } } } }"""


async def test_create_job_stores_and_dispatches(gql, make_repo, store, dispatcher) -> None:
    # GIVEN two allowed repositories
    repos = [str(make_repo("a")), str(make_repo("b"))]
    # WHEN a job is created over them
    status, body = await gql(CREATE, {"input": {"prompt": "Add type hints", "repositories": repos, "kind": "ANALYZE"}})
    # THEN it is a Job, stored, and its runs were dispatched
    job = body["data"]["createJob"]
    assert status == 200 and job["__typename"] == "Job"
    assert job["status"] == "QUEUED" and job["kind"] == "ANALYZE" and job["output"] == "PATCH"
    assert [r["location"] for r in job["repositories"]] == repos
    assert store.get_job(job["id"]) is not None
    assert dispatcher.dispatched == [(job["id"], [0, 1])]


def _bad_inputs(repos: list[str], outside: str) -> list[tuple[dict[str, Any], str]]:
    return [
        ({"prompt": "", "repositories": repos[:1]}, "prompt"),
        ({"prompt": "   ", "repositories": repos[:1]}, "prompt"),
        ({"prompt": "x" * 100_001, "repositories": repos[:1]}, "prompt"),
        ({"prompt": "Fix it", "repositories": []}, "repositories"),
        ({"prompt": "Fix it", "repositories": repos}, "repositories"),  # six: over the max of five
        ({"prompt": "Fix it", "repositories": [outside]}, "repositories.0"),
        ({"prompt": "Fix it", "repositories": [repos[0], "not a repo ref!"]}, "repositories.1"),
        ({"prompt": "Fix it", "repositories": [repos[0], repos[0]]}, "repositories.1"),
        ({"prompt": "Fix it", "repositories": repos[:1], "checkCommand": "make test"}, "checkCommand"),
        ({"prompt": "Fix it", "repositories": repos[:1], "model": "gpt-4"}, "model"),
        ({"prompt": "Fix it", "repositories": repos[:1], "output": "PULL_REQUEST"}, "repositories.0"),
        ({"prompt": "Fix it", "repositories": repos[:1], "budget": {"maxTurns": 0}}, "budget.maxTurns"),
    ]


async def test_bad_create_job_inputs_are_input_errors_and_write_nothing(
    gql, make_repo, store, dispatcher, tmp_path: Path
) -> None:
    # GIVEN six allowed repositories and one outside the allowlist
    repos = [str(make_repo(f"r{i}")) for i in range(6)]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for data, field in _bad_inputs(repos, str(outside)):
        before = job_count(store)
        # WHEN createJob is sent with the bad input
        status, body = await gql(CREATE, {"input": data})
        # THEN the answer is an InputError naming the field, and nothing was stored or started
        payload = body["data"]["createJob"]
        assert status == 200, data
        assert payload["__typename"] == "InputError", data
        assert payload["field"] == field, (data, payload)
        assert payload["message"]
        assert job_count(store) == before
    assert dispatcher.dispatched == []


async def test_malformed_create_job_writes_nothing(client: httpx.AsyncClient, store) -> None:
    before = job_count(store)
    response = await client.post(
        "/graphql",
        json={"query": "mutation { createJob(input: {prompt: 1, repositories: }) { __typename } }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert job_count(store) == before


async def test_cancel_job(gql, seed_job, dispatcher) -> None:
    job = seed_job(2)
    _, body = await gql("mutation($id: ID!) { cancelJob(id: $id) { status repositories { status } } }", {"id": job.id})
    assert body["data"]["cancelJob"] == {
        "status": "CANCELLED",
        "repositories": [{"status": "CANCELLED"}, {"status": "CANCELLED"}],
    }
    assert dispatcher.cancelled == [(job.id, [0, 1])]


@pytest.mark.parametrize(
    "mutation",
    [
        'mutation { cancelJob(id: "nope") { id } }',
        'mutation { retryRepositories(jobId: "nope") { id } }',
    ],
)
async def test_unknown_job_is_not_found(gql, mutation: str, store) -> None:
    before = job_count(store)
    status, body = await gql(mutation)
    assert status == 200
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "nope" in body["errors"][0]["message"]
    assert job_count(store) == before


async def test_retry_failed_runs_keeps_attempts(gql, seed_job, store, dispatcher) -> None:
    # GIVEN a job whose only run failed
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    RunProgress(store, run_id).fail("CLONE_FAILED", "could not clone")
    # WHEN its failed runs are retried
    _, body = await gql(
        "mutation($id: ID!) { retryRepositories(jobId: $id) { status repositories { status attempt"
        " attempts { attempt status error { kind message } } } } }",
        {"id": job.id},
    )
    # THEN the run starts attempt 2, keeps attempt 1, and is dispatched again
    run = body["data"]["retryRepositories"]["repositories"][0]
    assert run["status"] == "PENDING" and run["attempt"] == 2
    assert run["attempts"] == [
        {"attempt": 1, "status": "FAILED", "error": {"kind": "CLONE_FAILED", "message": "could not clone"}}
    ]
    assert dispatcher.dispatched[-1] == (job.id, [0])


async def test_retry_of_a_running_run_keeps_the_domain_message(gql, seed_job, store) -> None:
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    RunProgress(store, run_id).advance(status=RunStatus.CLONING)
    _, body = await gql(
        "mutation($id: ID!, $runs: [ID!]) { retryRepositories(jobId: $id, runIds: $runs) { id } }",
        {"id": job.id, "runs": [run_id]},
    )
    assert "cancel it first" in body["errors"][0]["message"]


class BrokenDispatcher(RecordingDispatcher):
    """A dispatcher whose backend is down: every call fails unexpectedly."""

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        raise RuntimeError("secret internal detail")

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None:
        raise RuntimeError("secret internal detail")


async def test_unexpected_errors_are_masked_and_logged_with_a_reference(
    settings, store, make_repo, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # GIVEN a server whose dispatcher fails unexpectedly
    app = create_app(Container(settings=settings, store=store, dispatcher=BrokenDispatcher(), feed=store), spa_dir=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        caplog.set_level(logging.ERROR, logger="cody_batch.api")
        # WHEN a job is created
        response = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": {"prompt": "x", "repositories": [str(make_repo("a"))]}}},
        )
    # THEN the client sees a masked message with a reference, never the detail; the log has both
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"].startswith("Unexpected error; reference ")
    assert "secret" not in response.text
    reference = error["message"].rsplit(" ", 1)[-1]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)

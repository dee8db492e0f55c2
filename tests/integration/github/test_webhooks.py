"""POST /webhooks/github: signed deliveries from the fake GitHub update pull requests; anything else changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.models import EventKind, PullRequestState
from core.settings import Settings
from server.runtime.container import Container
from server.web.app import create_app
from server.web.webhooks import signature
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.conftest import WEBHOOK_SECRET
from tests.integration.github.pull_request_jobs import open_pull, pull_request_job


def _states(store: SqliteStore, job_id: str) -> list[str]:
    return [r.pull_request.state.value for r in store.get_runs([job_id])[job_id] if r.pull_request is not None]


def _snapshot(store: SqliteStore, job_id: str) -> tuple[Any, ...]:
    """Everything a delivery could change: the job row, its runs and its events."""
    return store.get_job(job_id), store.get_runs([job_id])[job_id], store.list_events(job_id)


async def _deliver(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/github", content=body, headers=headers)


async def test_a_signed_merge_delivery_updates_the_pull_request_with_an_event(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job with two open pull requests, the first merged on GitHub
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.merge_pull(1)
    # WHEN GitHub delivers the pull_request event, signed
    body, headers = fake_github.delivery("pull_request", fake_github.pull_request_payload(1, "closed"), WEBHOOK_SECRET)
    response = await _deliver(pr_client, body, headers)
    # THEN it is applied: the first is merged, with its event; the second, not named, was not read
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    assert _states(store, job.id) == ["MERGED", "OPEN"]
    assert [e.new_value for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST] == [
        "state=MERGED checks=NONE review=NONE"
    ]
    assert not fake_github.requests_to("GET", "^/repos/acme/two/")


async def test_redelivery_of_the_same_delivery_id_changes_nothing(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a delivery applied once
    job = pull_request_job(store, fake_github, ["acme/one"])
    fake_github.close_pull(1)
    body, headers = fake_github.delivery("pull_request", fake_github.pull_request_payload(1, "closed"), WEBHOOK_SECRET)
    assert (await _deliver(pr_client, body, headers)).json()["outcome"] == "applied"
    before = _snapshot(store, job.id)
    reads = len(fake_github.requests)
    # WHEN GitHub redelivers it (same X-GitHub-Delivery), after the pull request was merged meanwhile
    fake_github.pull(1).merged = True
    response = await _deliver(pr_client, body, headers)
    # THEN it is answered as a duplicate, GitHub is not asked, and nothing changed
    assert response.status_code == 200 and response.json()["outcome"] == "duplicate"
    assert len(fake_github.requests) == reads
    assert _snapshot(store, job.id) == before and _states(store, job.id) == ["CLOSED"]


def _unsigned(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}


def _wrong(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}


@pytest.mark.parametrize("case", ["unsigned", "badly signed", "signed with another secret", "body changed"])
async def test_a_delivery_that_is_not_verifiably_githubs_is_refused_and_changes_nothing(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub, case: str
) -> None:
    # GIVEN a merged pull request and a delivery about it, tampered with in one way
    job = pull_request_job(store, fake_github, ["acme/one"])
    fake_github.merge_pull(1)
    payload = fake_github.pull_request_payload(1, "closed")
    genuine = fake_github.delivery("pull_request", payload, WEBHOOK_SECRET)
    body, headers = genuine
    if case == "unsigned":
        headers = _unsigned(headers)
    elif case == "badly signed":
        headers = _wrong(headers)
    elif case == "signed with another secret":
        body, headers = fake_github.delivery("pull_request", payload, "another-secret", headers["X-GitHub-Delivery"])
    else:
        body = body.replace(b'"closed"', b'"open"', 1)
    before = _snapshot(store, job.id)
    reads = len(fake_github.requests)
    # WHEN it is delivered
    response = await _deliver(pr_client, body, headers)
    # THEN it is refused, GitHub is not asked and nothing changed
    assert response.status_code == 401 and "signature" in response.json()["error"].lower()
    assert len(fake_github.requests) == reads and _snapshot(store, job.id) == before
    # AND the genuine delivery with the same id is still applied: a refusal does not use up the id
    assert (await _deliver(pr_client, *genuine)).json()["outcome"] == "applied"
    assert _states(store, job.id) == ["MERGED"]


async def test_a_delivery_about_an_unknown_repository_or_pull_request_is_refused(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job in acme/one, and a repository no job touched with its own pull request
    job = pull_request_job(store, fake_github, ["acme/one"])
    fake_github.add_repo("acme/other")
    open_pull(fake_github, "acme/other", "feature")
    before = _snapshot(store, job.id)
    for payload in (
        fake_github.pull_request_payload(2, "closed"),
        {**fake_github.pull_request_payload(1, "closed"), "number": 9},
    ):
        payload["pull_request"]["number"] = payload["number"]
        # WHEN signed deliveries name a pull request no run opened
        response = await _deliver(pr_client, *fake_github.delivery("pull_request", payload, WEBHOOK_SECRET))
        # THEN each is refused (404) and nothing changed
        assert response.status_code == 404 and "no pull request of this server" in response.json()["error"]
    assert _snapshot(store, job.id) == before


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"X-GitHub-Event": ""}, None, 400),
        ({"X-GitHub-Delivery": ""}, None, 400),
        ({}, b"[1, 2]", 400),
        ({}, b"{not json", 400),
        ({}, b'{"repository": "acme/one"}', 400),
    ],
)
async def test_a_signed_but_malformed_delivery_is_a_clear_400(
    pr_client: httpx.AsyncClient, fake_github: FakeGitHub, headers: dict[str, str], body: bytes | None, expected: int
) -> None:
    # GIVEN a delivery signed with the right secret but missing a header or with a body GitHub never sends
    payload = {"repository": {"full_name": "acme/one"}, "pull_request": {"number": 1}}
    signed_body, signed = fake_github.delivery("pull_request", payload, WEBHOOK_SECRET)
    if body is not None:
        signed_body, signed = body, {**signed, "X-Hub-Signature-256": signature(WEBHOOK_SECRET.encode(), body)}
    # WHEN delivered THEN it is refused with a message
    response = await _deliver(pr_client, signed_body, {**signed, **headers})
    assert response.status_code == expected and response.json()["error"]


async def test_check_run_and_status_deliveries_update_checks(
    pr_client: httpx.AsyncClient, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN an open pull request whose check run fails, then whose status (naming only the branch) succeeds
    job = pull_request_job(store, fake_github, ["acme/one"])
    fake_github.add_check_run(1, "ci", "completed", "failure")
    # WHEN the check_run delivery arrives THEN checks fail
    payload = fake_github.check_run_payload(1, "ci")
    assert (await _deliver(pr_client, *fake_github.delivery("check_run", payload, WEBHOOK_SECRET))).status_code == 200
    run = store.get_runs([job.id])[job.id][0]
    assert run.pull_request is not None and run.pull_request.status is not None
    assert run.pull_request.status.checks == "FAILURE"
    # WHEN the check is re-run green and a status delivery arrives THEN checks succeed
    fake_github.add_check_run(1, "ci", "completed", "success")
    fake_github.set_status(1, "lint", "success")
    payload = fake_github.status_payload(1, "lint")
    assert (await _deliver(pr_client, *fake_github.delivery("status", payload, WEBHOOK_SECRET))).status_code == 200
    run = store.get_runs([job.id])[job.id][0]
    assert run.pull_request is not None and run.pull_request.status is not None
    assert run.pull_request.status.checks == "SUCCESS" and run.pull_request.state is PullRequestState.OPEN


async def test_a_ping_is_answered_and_changes_nothing(pr_client: httpx.AsyncClient, fake_github: FakeGitHub) -> None:
    # WHEN GitHub pings the new hook THEN the answer is 200, ignored
    body, headers = fake_github.delivery("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}, WEBHOOK_SECRET)
    response = await _deliver(pr_client, body, headers)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"


async def test_without_a_webhook_secret_the_route_is_off(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a server with no CODY_BATCH_GITHUB_WEBHOOK_SECRET
    container = Container(settings=github_settings, store=store, dispatcher=RecordingDispatcher(), feed=store)
    transport = httpx.ASGITransport(app=create_app(container, spa_dir=None))
    body, headers = fake_github.delivery("ping", {"zen": "hi"}, WEBHOOK_SECRET)
    # WHEN any delivery arrives THEN it is refused as not configured
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await _deliver(client, body, headers)
    assert response.status_code == 404 and "CODY_BATCH_GITHUB_WEBHOOK_SECRET" in response.json()["error"]

"""Subscriptions over a real WebSocket: snapshot, live changes from another process, resume."""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed

from core.models import Job, RunStatus
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.settings import Settings
from store.sqlite import SqliteStore
from store.sqlite_reads import NonWaitingReads
from tests.integration.api.conftest import GUARD, GraphQLWS, settled

ROOT = Path(__file__).resolve().parents[3]
JOB_UPDATED = """subscription($id: ID!, $after: String) {
  jobUpdated(id: $id, after: $after) { id status cursor repositories { status step } } }"""


def advance_in_another_process(database: Path, run_id: str, status: RunStatus, step: str) -> None:
    """A worker-like writer: a separate process committing through RunProgress."""
    script = textwrap.dedent(
        f"""
        from core.models import RunStatus
        from core.services.progress import RunProgress
        from store.sqlite import SqliteStore
        store = SqliteStore({str(database)!r})
        RunProgress(store, {run_id!r}).advance(status=RunStatus.{status.name}, step={step!r})
        store.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=GUARD)


class ReadSignallingStore(SqliteStore):
    """The real SQLite store, also queueing the id of every job it reads (in a thread or on the server's
    event loop), so a test can wait until the server has taken a subscription's snapshot instead of sleeping."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.job_reads: queue.Queue[str] = queue.Queue()

    def get_job(self, job_id: str) -> Job | None:
        job = super().get_job(job_id)
        self.job_reads.put(job_id)
        return job

    def non_waiting_reads(self) -> NonWaitingReads:
        return SignallingReads(super().non_waiting_reads().connection, self)


class SignallingReads(NonWaitingReads):
    """The store's reads on the event loop, queueing each job id read as the store does."""

    store: ReadSignallingStore

    def get_job(self, job_id: str) -> Job | None:
        job = super().get_job(job_id)
        self.store.job_reads.put(job_id)
        return job


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadSignallingStore]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    observed = ReadSignallingStore(settings.database_path)
    yield observed
    observed.close()


@pytest.fixture
def job(store: Any, settings: Any, dispatcher: Any, make_repo: Any) -> Any:
    return create_job(store, dispatcher, settings, JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))]))


async def test_job_updated_yields_snapshot_then_changes_from_another_process(
    live_server: str, store: Any, settings: Any, job: Any
) -> None:
    # GIVEN a client subscribed to a queued job
    ws = await GraphQLWS.open(live_server)
    assert (await ws.receive())["type"] == "connection_ack"
    op = await ws.subscribe(JOB_UPDATED, {"id": job.id})
    # THEN it gets the job at once
    snapshot = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
    assert snapshot["status"] == "QUEUED" and snapshot["cursor"] == job.cursor
    # WHEN a worker process moves the run on
    run_id = store.get_runs([job.id])[job.id][0].id
    await asyncio.to_thread(advance_in_another_process, settings.database_path, run_id, RunStatus.CLONING, "clone")
    # THEN the subscription yields the changed job (with its runs freshly loaded)
    update = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
    assert update["status"] == "RUNNING"
    assert update["repositories"] == [{"status": "CLONING", "step": "clone"}]
    assert update["cursor"] > snapshot["cursor"]
    await ws.close()


async def test_resume_with_current_cursor_skips_the_snapshot(live_server: str, store: Any, job: Any) -> None:
    # GIVEN a client that already saw the job's latest cursor, subscribed again with it
    ws = await GraphQLWS.open(live_server)
    await ws.receive()
    while not store.job_reads.empty():
        store.job_reads.get_nowait()
    op = await ws.subscribe(JOB_UPDATED, {"id": job.id, "after": job.cursor})
    # WHEN the job changes once the server has read the job for that subscription (its snapshot)
    assert await asyncio.to_thread(store.job_reads.get, timeout=GUARD) == job.id
    run_id = store.get_runs([job.id])[job.id][0].id
    await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.CLONING)
    # THEN the first message is the change, not a repeat of what it saw
    first = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
    assert first["status"] == "RUNNING"
    await ws.close()


async def test_resume_with_an_old_cursor_gets_the_missed_state_at_once(live_server: str, store: Any, job: Any) -> None:
    # GIVEN a client whose last cursor is older than the job's latest event
    old_cursor = job.cursor
    run_id = store.get_runs([job.id])[job.id][0].id
    RunProgress(store, run_id).advance(status=RunStatus.CLONING)
    ws = await GraphQLWS.open(live_server)
    await ws.receive()
    # WHEN it resubscribes with that cursor THEN it gets the current job at once
    op = await ws.subscribe(JOB_UPDATED, {"id": job.id, "after": old_cursor})
    current = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
    assert current["status"] == "RUNNING" and current["cursor"] == store.get_job(job.id).cursor
    await ws.close()


async def test_unknown_job_is_an_error(live_server: str) -> None:
    ws = await GraphQLWS.open(live_server)
    await ws.receive()
    op = await ws.subscribe(JOB_UPDATED, {"id": "nope"})
    message = await ws.next_payload(op)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert "no job with id nope" in errors[0]["message"]
    assert errors[0].get("extensions", {}).get("code") == "NOT_FOUND"
    await ws.close()


async def test_jobs_updated_sees_new_jobs(live_server: str, job: Any, make_repo: Any) -> None:
    # GIVEN a client subscribed to every job, its subscription running on the server
    ws = await GraphQLWS.open(live_server)
    await ws.receive()
    op = await ws.subscribe("subscription { jobsUpdated { id title status } }")
    await settled(ws, job.id)
    # WHEN a job is created over HTTP
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as client:
        response = await client.post(
            "/graphql",
            json={
                "query": 'mutation($r: [String!]!) { createJob(input: {prompt: "Tidy up", repositories: $r})'
                " { ... on Job { id } } }",
                "variables": {"r": [str(make_repo("b"))]},
            },
        )
    created = response.json()["data"]["createJob"]["id"]
    # THEN the subscription yields it
    job = (await ws.next_payload(op))["payload"]["data"]["jobsUpdated"]
    assert job == {"id": created, "title": "Tidy up", "status": "QUEUED"}
    await ws.close()


@pytest.fixture
def locked_server(settings: Any, request: pytest.FixtureRequest) -> str:
    """The live server started with CODY_BATCH_API_TOKEN set."""
    settings.api_token = SecretStr("tok")
    return str(request.getfixturevalue("live_server"))


async def test_token_is_required_in_connection_init(locked_server: str) -> None:
    # GIVEN a server with a token
    live_server = locked_server
    # WHEN a client connects without it THEN the socket is closed as forbidden
    ws = await GraphQLWS.open(live_server)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    # AND with it, the connection is acknowledged
    ws = await GraphQLWS.open(live_server, {"authorization": "Bearer tok"})
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.close()

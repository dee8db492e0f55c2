"""Subscribers of one subscription share its execution; commits wake the feed; limits hold with caching."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from core.models import RunStatus
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.settings import Settings
from schema.limits import MAX_ALIASES
from tests.integration.api.conftest import GUARD, GraphQLWS, settled
from tests.integration.api.test_subscriptions import JOB_UPDATED, advance_in_another_process

SUBSCRIBERS = 25
STATES = [(RunStatus.CLONING, "clone"), (RunStatus.RUNNING_AGENT, "agent"), (RunStatus.VALIDATING, "validate")]


@pytest.fixture
def settings(tmp_path: Path, repos_dir: Path) -> Settings:
    # A fallback poll far longer than any wait below: every frame here was woken by a commit.
    return Settings(data_dir=tmp_path / "data", allowed_repos=[f"{repos_dir}/*"], feed_poll_seconds=3600)


@pytest.fixture
def job(store: Any, settings: Settings, dispatcher: Any, make_repo: Any) -> Any:
    return create_job(store, dispatcher, settings, JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))]))


async def raw_next(ws: GraphQLWS) -> str:
    """The next message's text, as the server sent it."""
    return str(await asyncio.wait_for(ws.connection.recv(), GUARD))


async def open_acknowledged(host: str) -> GraphQLWS:
    ws = await GraphQLWS.open(host)
    assert (await ws.receive())["type"] == "connection_ack"
    return ws


def job_of(text: str) -> dict[str, Any]:
    message = json.loads(text)
    assert message["type"] == "next", message
    return dict(message["payload"]["data"]["jobUpdated"])


async def test_a_commit_by_another_process_wakes_subscribers(
    live_server: str, store: Any, settings: Settings, job: Any
) -> None:
    # GIVEN a subscriber of a queued job, on a server whose fallback poll is an hour
    ws = await open_acknowledged(live_server)
    op = await ws.subscribe(JOB_UPDATED, {"id": job.id})
    assert (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]["status"] == "QUEUED"
    # WHEN a separate process (as a run process does) commits the run's next state
    run_id = store.get_runs([job.id])[job.id][0].id
    await asyncio.to_thread(advance_in_another_process, settings.database_path, run_id, RunStatus.CLONING, "clone")
    # THEN the frame arrives: that commit woke the server
    update = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
    assert update["repositories"] == [{"status": "CLONING", "step": "clone"}]
    await ws.close()


async def test_subscribers_of_one_document_get_identical_frames_each_once_in_order(
    live_server: str, store: Any, settings: Settings, job: Any
) -> None:
    # GIVEN many connections subscribed to the same job with the same document and variables
    clients = [await open_acknowledged(live_server) for _ in range(SUBSCRIBERS)]
    for ws in clients:
        await ws.subscribe(JOB_UPDATED, {"id": job.id})
    received: list[list[str]] = [[await raw_next(ws)] for ws in clients]
    run_id = store.get_runs([job.id])[job.id][0].id
    reads_before = store.reads
    # WHEN the run moves through its states, committed by another process
    for status, step in STATES:
        await asyncio.to_thread(advance_in_another_process, settings.database_path, run_id, status, step)
        for ws, frames in zip(clients, received, strict=True):
            frames.append(await raw_next(ws))
    reads = store.reads - reads_before
    # THEN every subscriber got the very same text for each state, in the order of the states
    assert all(frames == received[0] for frames in received)
    jobs = [job_of(text) for text in received[0]]
    assert [j["repositories"][0]["step"] for j in jobs] == [None, "clone", "agent", "validate"]
    cursors = [j["cursor"] for j in jobs]
    assert cursors == sorted(set(cursors))
    # AND the server read each state once for all of them (the feed, the job, its runs), not once each
    assert reads <= 3 * len(STATES)
    # AND nothing was sent twice: the next frame each gets is the next state, not a repeat
    await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.SUCCEEDED)
    for ws in clients:
        assert job_of(await raw_next(ws))["status"] == "SUCCEEDED"
        await ws.close()


async def test_a_late_subscriber_starts_from_the_latest_state(live_server: str, store: Any, job: Any) -> None:
    # GIVEN a subscriber that has seen the job move on
    first = await open_acknowledged(live_server)
    op = await first.subscribe(JOB_UPDATED, {"id": job.id})
    await first.next_payload(op)
    run_id = store.get_runs([job.id])[job.id][0].id
    await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.CLONING, step="clone")
    seen = (await first.next_payload(op))["payload"]["data"]["jobUpdated"]
    # WHEN a second client subscribes to the same job with the same document
    late = await open_acknowledged(live_server)
    late_op = await late.subscribe(JOB_UPDATED, {"id": job.id})
    # THEN it gets that state at once, and the later ones like the first client
    assert (await late.next_payload(late_op))["payload"]["data"]["jobUpdated"] == seen
    await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.RUNNING_AGENT, step="agent")
    for ws, op_id in ((first, op), (late, late_op)):
        update = (await ws.next_payload(op_id))["payload"]["data"]["jobUpdated"]
        assert update["repositories"] == [{"status": "RUNNING_AGENT", "step": "agent"}]
        await ws.close()


async def test_a_late_jobs_updated_subscriber_gets_only_later_changes(
    live_server: str, store: Any, job: Any, seed_other_job: Any
) -> None:
    # GIVEN a jobsUpdated subscriber that has seen one change
    first = await open_acknowledged(live_server)
    op = await first.subscribe("subscription { jobsUpdated { id status } }")
    await settled(first, job.id)
    changed = await asyncio.to_thread(lambda: seed_other_job("b"))
    seen = (await first.next_payload(op))["payload"]["data"]["jobsUpdated"]
    assert seen["id"] == changed.id
    # WHEN a second client subscribes to the same document, and another job changes
    late = await open_acknowledged(live_server)
    late_op = await late.subscribe("subscription { jobsUpdated { id status } }")
    await settled(late, job.id)
    other = await asyncio.to_thread(lambda: seed_other_job("c"))
    # THEN the first gets that change next, and so does the late one: the older change is not replayed
    for ws, op_id in ((first, op), (late, late_op)):
        assert (await ws.next_payload(op_id))["payload"]["data"]["jobsUpdated"]["id"] == other.id
        await ws.close()


@pytest.fixture
def seed_other_job(store: Any, settings: Settings, dispatcher: Any, make_repo: Any) -> Any:
    def seed(name: str) -> Any:
        return create_job(store, dispatcher, settings, JobRequest(prompt="Other", repositories=[str(make_repo(name))]))

    return seed


def aliased(count: int) -> str:
    fields = " ".join(f"a{i}: id" for i in range(count))
    return f"subscription($id: ID!) {{ jobUpdated(id: $id) {{ {fields} }} }}"


async def test_an_over_limit_subscription_is_refused_after_a_cached_one(live_server: str, job: Any) -> None:
    ws = await open_acknowledged(live_server)
    allowed, over = aliased(MAX_ALIASES), aliased(MAX_ALIASES + 1)
    # GIVEN a document at the alias limit, subscribed twice (the second is parsed and validated from the cache)
    for _ in range(2):
        op = await ws.subscribe(allowed, {"id": job.id})
        assert (await ws.next_payload(op))["type"] == "next"
        await ws.send({"id": op, "type": "complete"})
    # WHEN a document over the limit is subscribed, twice
    for _ in range(2):
        op = await ws.subscribe(over, {"id": job.id})
        message = await ws.next_payload(op)
        # THEN it is refused each time
        assert message["type"] == "error"
        assert "aliases" in message["payload"][0]["message"]
    # AND the document at the limit is still accepted
    op = await ws.subscribe(allowed, {"id": job.id})
    assert (await ws.next_payload(op))["type"] == "next"
    await ws.close()

"""A live update's store reads are made on the server's event loop: no thread hop per frame."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from core.models import Message, RepositoryRun, RunStatus, Thread
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.settings import Settings
from store.sqlite import SqliteStore
from store.sqlite_reads import SMALL_ARTIFACT
from tests.integration.api.conftest import GraphQLWS
from tests.integration.api.test_shared_subscriptions import open_acknowledged

FOLLOW = """subscription($id: ID!) {
  jobUpdated(id: $id) { status cursor repositories { status step thread { turns } } } }"""


class WaitingReadCountingStore(SqliteStore):
    """The real store, counting the reads made over its waiting connections (one per thread that reads)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.waiting_reads = 0

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        self.waiting_reads += 1
        return super()._read(sql, params)


@pytest.fixture
def settings(tmp_path: Path, repos_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allowed_repos=[f"{repos_dir}/*"], feed_poll_seconds=3600)


@pytest.fixture
def store(settings: Settings) -> Iterator[WaitingReadCountingStore]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with closing(WaitingReadCountingStore(settings.database_path)) as counting:
        yield counting


@pytest.fixture
def writer(store: WaitingReadCountingStore, settings: Settings) -> Iterator[SqliteStore]:
    """Another store over the same file, as a run process has: its reads are not the server's."""
    with closing(SqliteStore(settings.database_path)) as other:
        yield other


@pytest.fixture
def run(store: WaitingReadCountingStore, settings: Settings, dispatcher: Any, make_repo: Any) -> RepositoryRun:
    """The run of a new one-repository job."""
    job = create_job(store, dispatcher, settings, JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))]))
    return store.get_runs([job.id])[job.id][0]


def thread_of(run_id: str, turns: int, text: str = "ok") -> Thread:
    messages = []
    for turn in range(turns):
        messages.append(Message(index=2 * turn, role="user", content=[{"type": "text", "text": text}]))
        messages.append(Message(index=2 * turn + 1, role="assistant", content=[{"type": "text", "text": text}]))
    return Thread(run_id=run_id, model="m", messages=messages)


async def next_job(ws: GraphQLWS, op: str) -> dict[str, Any]:
    return (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]  # type: ignore[no-any-return]


async def test_live_updates_read_the_store_on_the_event_loop(
    live_server: str, store: WaitingReadCountingStore, writer: SqliteStore, run: RepositoryRun
) -> None:
    # GIVEN two subscribers of a job, following its runs and their threads
    clients = [await open_acknowledged(live_server) for _ in range(2)]
    ops = [await ws.subscribe(FOLLOW, {"id": run.job_id}) for ws in clients]
    for ws, op in zip(clients, ops, strict=True):
        assert (await next_job(ws, op))["status"] == "QUEUED"
    before = store.waiting_reads
    # WHEN the run moves on and saves a thread of two turns (committed by another store, like a run's)
    progress = RunProgress(writer, run.id)
    seen: list[list[dict[str, Any]]] = [[], []]
    for change in (
        lambda: progress.advance(status=RunStatus.RUNNING_AGENT, step="agent"),
        lambda: progress.save_thread(thread_of(run.id, 2)),
    ):
        await asyncio.to_thread(change)
        for ws, op, frames in zip(clients, ops, seen, strict=True):
            frames.append(await next_job(ws, op))
    # THEN both got each state, and the server read the feed, the job, its runs and the thread over
    # its event loop's own connection: none of those reads went to a thread
    assert all(frames == seen[0] for frames in seen)
    assert [(f["repositories"][0]["step"], f["repositories"][0]["thread"]) for f in seen[0]] == [
        ("agent", None),
        ("agent", {"turns": 2}),
    ]
    assert store.waiting_reads == before
    for ws in clients:
        await ws.close()


async def test_a_thread_too_large_for_the_loop_is_read_in_a_thread(
    live_server: str, store: WaitingReadCountingStore, writer: SqliteStore, run: RepositoryRun
) -> None:
    # GIVEN a subscriber of a job whose run is working
    progress = RunProgress(writer, run.id)
    progress.advance(status=RunStatus.RUNNING_AGENT, step="agent")
    ws = await open_acknowledged(live_server)
    op = await ws.subscribe(FOLLOW, {"id": run.job_id})
    assert (await next_job(ws, op))["status"] == "RUNNING"
    before = store.waiting_reads
    # WHEN the run saves a thread larger than the loop reads itself
    await asyncio.to_thread(progress.save_thread, thread_of(run.id, 3, text="x" * SMALL_ARTIFACT))
    # THEN the frame still shows it whole, read over a waiting connection (in a thread): just that read
    assert (await next_job(ws, op))["repositories"][0]["thread"] == {"turns": 3}
    assert store.waiting_reads == before + 1
    await ws.close()

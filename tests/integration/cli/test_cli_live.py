"""`cody-batch submit --wait` as a real process: live progress, and surviving a server restart."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.models import Message, RunStatus, Thread
from core.services.progress import RunProgress
from core.settings import Settings
from server.cli.follow import follow_job
from server.cli.graphql_client import ConnectionLost, GraphQLClient
from server.cli.queries import CREATE_JOB
from tests.integration.cli.conftest import Api, SubscribeTap, start_api

MakeRepo = Callable[..., Path]
# A generous bound so a broken test fails instead of hanging; nothing is timed against it.
PATIENCE = 60


class Gates:
    """Steps the scripted worker may take only when the test opens them."""

    def __init__(self) -> None:
        self.clone = threading.Event()
        self.agent = threading.Event()
        self.finish = threading.Event()

    def script(self, progress: RunProgress) -> None:
        assert self.clone.wait(PATIENCE)
        progress.advance(RunStatus.CLONING, step="clone")
        assert self.agent.wait(PATIENCE)
        progress.advance(RunStatus.RUNNING_AGENT, step="agent")
        assert self.finish.wait(PATIENCE)
        progress.advance(RunStatus.SUCCEEDED, step="done", summary="done")


class CliProcess:
    """`cody-batch` in a subprocess, its stdout readable line by line."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "COLUMNS": "250"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from server.cli.main import main; main()", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        """The first stdout line containing `text` (fails if the process ends first)."""
        while True:
            line = self.lines.get(timeout=PATIENCE)
            if text in line:
                return line

    def finish(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=PATIENCE)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


@pytest.fixture
def gates(api: Api) -> Iterator[Gates]:
    gates = Gates()
    api.dispatcher.script = gates.script
    yield gates
    # Never leave a worker thread waiting after a failed assertion.
    gates.clone.set()
    gates.agent.set()
    gates.finish.set()


def test_wait_shows_each_change_as_it_happens(api: Api, gates: Gates, make_repo: MakeRepo) -> None:
    # GIVEN a worker that advances only when the test lets it
    repo = make_repo("live")
    cli = CliProcess("submit", "add type hints", str(repo), "--wait", "--url", api.url)
    # WHEN each step is released after the CLI has shown the previous one
    assert "PENDING" in cli.wait_for("PENDING")
    gates.clone.set()
    assert "CLONING (clone)" in cli.wait_for("CLONING")
    gates.agent.set()
    assert "RUNNING_AGENT (agent)" in cli.wait_for("RUNNING_AGENT")
    gates.finish.set()
    # THEN the CLI shows the end and exits 0
    assert "SUCCEEDED" in cli.wait_for("SUCCEEDED")
    code, _ = cli.finish()
    assert code == 0


def test_wait_reconnects_with_its_cursor_after_a_server_restart(api: Api, gates: Gates, make_repo: MakeRepo) -> None:
    # GIVEN a CLI following a job, shown it pending (as created) and then cloning (as followed)
    cli = CliProcess("submit", "add type hints", str(make_repo("restart")), "--wait", "--url", api.url)
    cli.wait_for("PENDING")
    gates.clone.set()
    cli.wait_for("CLONING")
    [job] = api.store.list_jobs(10).jobs
    seen = job.cursor  # the cursor of the update that showed CLONING: the worker waits at the next gate
    # WHEN the server stops, the job finishes while it is down, and a new server starts on the port (which
    # stays bound: the CLI's reconnection waits for it instead of spending its retries on refusals)
    api.server.stop(keep_listening=True)
    gates.agent.set()
    gates.finish.set()
    api.dispatcher.join()
    assert api.store.get_job(job.id).cursor != seen
    restarted, _ = start_api(api.settings, api.store, server=api.server, tap=True)
    try:
        # THEN the CLI reconnects, receives the finished job and exits 0
        assert "SUCCEEDED" in cli.wait_for("SUCCEEDED")
        code, err = cli.finish()
    finally:
        restarted.stop()
    assert code == 0
    assert "reconnecting" in err
    # AND it resubscribed to that job with the cursor it last saw, not from the start
    assert isinstance(restarted.app, SubscribeTap)
    [subscribe] = restarted.app.subscribes
    assert subscribe["variables"] == {"id": job.id, "after": seen}


async def test_following_gives_up_when_the_server_never_returns(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job, and then no server any more
    api.dispatcher.script = lambda progress: None
    client = GraphQLClient(api.url)
    job = client.execute(CREATE_JOB, {"input": {"prompt": "fix", "repositories": [str(make_repo("gone"))]}})
    api.server.stop()
    retries: list[str] = []
    # WHEN it is followed with two quick retries
    with pytest.raises(ConnectionLost) as caught:
        await follow_job(client, job["createJob"], lambda _: None, on_retry=retries.append, retry_delays=(0, 0))
    # THEN it retried twice, then gave up naming the server
    assert len(retries) == 2
    assert f"cannot reach the Cody Batch server at {api.url}" in str(caught.value)


def two_turns(progress: RunProgress) -> None:
    """A worker whose run stores a thread of two answered turns, then succeeds."""
    progress.advance(RunStatus.CLONING, step="clone")
    progress.advance(RunStatus.RUNNING_AGENT, step="agent")
    messages: list[Message] = []
    for turn in range(2):
        for role in ("user", "assistant"):
            text = {"type": "text", "text": f"{role} {turn} " + "long words " * 200}
            messages.append(Message(index=len(messages), role=role, content=[text]))
        progress.save_thread(Thread(run_id=progress.run_id, model="claude-sonnet-5-5", messages=messages))
    progress.advance(RunStatus.SUCCEEDED, step="done", summary="done")


def test_wait_receives_each_runs_turn_count_but_never_its_thread(
    settings: Settings, store: object, make_repo: MakeRepo
) -> None:
    # GIVEN a server whose frames are recorded, and a worker that stores a thread of two turns
    served, dispatcher = start_api(settings, store, tap=True)
    dispatcher.script = two_turns
    try:
        repo = make_repo("turns")
        # WHEN the CLI follows the job to its end
        cli = CliProcess("submit", "add type hints", str(repo), "--wait", "--url", served.url)
        row = cli.wait_for(str(repo))
        while "SUCCEEDED" not in row or "│" not in row:  # the final table's row, after the progress lines
            row = cli.wait_for(str(repo))
        code, _ = cli.finish()
        dispatcher.join()
    finally:
        served.stop()
    assert code == 0 and dispatcher.errors == []
    # THEN no frame it received held a run's thread, only its turn count
    assert isinstance(served.app, SubscribeTap)
    runs = [run for frame in served.app.nexts for run in frame["data"]["jobUpdated"]["repositories"]]
    assert runs, "the CLI received no frame"
    assert all("thread" not in run for run in runs)
    assert runs[-1]["turns"] == 2
    # AND the table it printed at the end shows the two turns
    assert row.split("│")[5].strip() == "2"

"""Worker fixtures: a fake Claude over HTTP, settings pointing at it, jobs stored without dispatch."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.models import Job, RepositoryRun
from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, Step, edit, text_turn, tool_turn
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.held_turn import HeldAnswer
from tests.patience import PATIENCE
from worker.pipeline import WorkerPorts, run_repository


@pytest.fixture
def fake_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def held() -> Iterator[HeldAnswer]:
    """A model step holding its answers until the test lets them go (at the end, whatever the test did)."""
    gate = HeldAnswer()
    yield gate
    gate.answer.set()  # frees the fake's request threads


@pytest.fixture
def make_dispatcher(model_settings: Settings) -> Iterator[Callable[..., SubprocessDispatcher]]:
    """Real dispatchers (forkserver run processes) on `settings` (default: the model's) with `updates`; closed after."""
    made: list[SubprocessDispatcher] = []

    def make(settings: Settings | None = None, **updates: Any) -> SubprocessDispatcher:
        base = settings or model_settings
        dispatcher = SubprocessDispatcher(base.model_copy(update=updates), grace_seconds=2)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close()


@pytest.fixture
def model_settings(settings: Settings, fake_model: FakeAnthropic) -> Settings:
    return settings.model_copy(
        update={"anthropic_api_key": SecretStr(fake_model.api_key), "anthropic_base_url": fake_model.url}
    )


@dataclass
class WorkerScene:
    """A worker's world: settings reaching the fake model, the store, and a way to make repositories."""

    settings: Settings
    store: SqliteStore
    model: FakeAnthropic
    make_repo: Callable[..., Path]


def submit(settings: Settings, store: SqliteStore, repos: list[Path], dispatcher: Any = None, **fields: Any) -> Job:
    """Store a job over `repos` (validated like the API does)."""
    request = JobRequest(
        prompt=fields.pop("prompt", "Say hello instead of hi."), repositories=[str(r) for r in repos], **fields
    )
    return create_job(store, dispatcher or RecordingDispatcher(), settings, request)


def run_all(settings: Settings, store: SqliteStore, job: Job, ports: WorkerPorts | None = None) -> list[RepositoryRun]:
    """Run every repository of `job` in this process, one after another; the runs as stored."""
    ports = ports or worker_ports(settings, store)
    for index in range(len(store.get_runs([job.id])[job.id])):
        run_repository(ports, job.id, index)
    return store.get_runs([job.id])[job.id]


def greeting_edit() -> list[Step]:
    """Claude replaces the greeting in app.py, then says so."""
    return [
        tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
        text_turn("Changed the greeting to hello."),
    ]


def applies_to_fresh_clone(origin: Path, diff: bytes, workdir: Path) -> Path:
    """A fresh clone of `origin` with `diff` applied (raises if it does not apply)."""
    fresh = workdir / f"fresh-{origin.name}"
    subprocess.run(["git", "clone", "-q", str(origin), str(fresh)], check=True)
    subprocess.run(["git", "apply", "--index", "-"], cwd=fresh, input=diff, check=True)
    return fresh


def run_pid(dispatcher: SubprocessDispatcher, job_id: str, index: int = 0) -> int:
    """The pid of the process working run `index` of the job, once the dispatcher lists it: it does so just
    after handing the run to a waiting process, which may already have sent its first model request."""
    wait_for(lambda: index in dispatcher.process_ids(job_id))
    return dispatcher.process_ids(job_id)[index]


def wait_for(condition: Callable[[], bool], timeout: float = PATIENCE) -> None:
    """Poll until `condition` holds; fail the test after a generous `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not hold in time")
        time.sleep(0.05)

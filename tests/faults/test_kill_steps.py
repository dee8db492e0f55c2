"""`kill -9` of the run process at each step of its pipeline: the clone, each of three turns, validation,
the patch, the push and the pull request. Each step is held in a real substitute until the kill lands (a git
remote whose refs file is a FIFO, the fake model keeping a reply back, a check command reading a FIFO, a
SQLite database stalling on the patch's write, the fake GitHub's remote and API keeping theirs back), never
by a hook in the product. The run is resumed as the
same attempt and ends SUCCEEDED: no finished turn asked again, the patch applies, one pull request."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.models import CheckStatus, OutputMode, RepositoryRun, ResumeReason, RunStatus
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, RecordedRequest, edit, text_turn, tool_turn
from tests.fakes.github_server import FakeGitHub
from tests.fakes.stalled_sqlite import stalled_patch_writes, write_locked
from tests.integration.worker.conftest import WorkerScene, applies_to_fresh_clone, run_pid, submit, wait_for
from tests.security.processes import alive, descendants
from tests.security.serve_process import PATIENCE
from worker.patch import patch_key

TURNS = [
    tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
    tool_turn(edit("create", "NOTES.md", file_text="Greeting changed.\n")),
    text_turn("Changed the greeting and noted it."),
]
REPO = "acme/app"
MakeDispatcher = Callable[..., SubprocessDispatcher]


def turn_of(request: RecordedRequest) -> int:
    """Which turn a request asks for: one more than the replies it carries."""
    return 1 + sum(1 for message in request.body["messages"] if message["role"] == "assistant")


class ThreeTurns:
    """Claude's three turns, each answered by its number (a request sent again gets the same answer);
    the request of turn `held` is kept waiting until `release` is set."""

    def __init__(self, held: int | None = None) -> None:
        self.held = held
        self.release = threading.Event()

    def step(self, request: RecordedRequest) -> dict[str, Any]:
        turn = turn_of(request)
        if turn == self.held:
            self.release.wait(PATIENCE)  # the killed worker is gone before this returns
        return TURNS[turn - 1]


@dataclass
class Scene(WorkerScene):
    """A kill row's world: the worker's, with real dispatchers and a directory to check patches in."""

    make_dispatcher: MakeDispatcher
    workdir: Path
    scripted: list[ThreeTurns] = field(default_factory=list)

    def script(self, held: int | None = None) -> ThreeTurns:
        """The fake model scripted with the three turns, turn `held` kept waiting."""
        turns = ThreeTurns(held)
        self.scripted.append(turns)
        self.model.script([turns.step] * 10)
        return turns

    def start(
        self, settings: Settings, repos: list[Any], held: int | None = None, **fields: Any
    ) -> tuple[SubprocessDispatcher, str, ThreeTurns]:
        """Script the model, then submit a job over `repos` to a new dispatcher on `settings`."""
        turns = self.script(held)
        dispatcher = self.make_dispatcher(settings)
        return dispatcher, submit(settings, self.store, repos, dispatcher, **fields).id, turns


@pytest.fixture
def scene(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    make_dispatcher: MakeDispatcher,
    tmp_path: Path,
) -> Iterator[Scene]:
    made = Scene(model_settings, store, fake_model, make_repo, make_dispatcher, tmp_path)
    yield made
    for turns in made.scripted:  # whatever the test did, no request thread waits on
        turns.release.set()


def kill_9(dispatcher: SubprocessDispatcher, job_id: str) -> None:
    """SIGKILL the run's process group (it and the git and check processes it started), as a lost host or the
    OOM killer would; return once the run process is gone."""
    pid = run_pid(dispatcher, job_id)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid))


def finished(store: SqliteStore, job_id: str) -> RepositoryRun:
    """The job's one run, once it has ended."""
    wait_for(lambda: store.get_runs([job_id])[job_id][0].status.finished, timeout=PATIENCE)
    return store.get_runs([job_id])[job_id][0]


def assert_resumed_to_succeeded(run: RepositoryRun, from_turn: int) -> None:
    """SUCCEEDED as the same attempt, resumed once, from `from_turn`."""
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.attempt == 1
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.RESUMED, from_turn)]


def assert_patch_applies(store: SqliteStore, run: RepositoryRun, workdir: Path) -> None:
    """The run's stored patch applies to a fresh clone of its repository and holds both turns' edits."""
    assert run.patch is not None
    diff = store.get_artifact(run.patch.artifact_key)
    assert diff is not None
    fresh = applies_to_fresh_clone(Path(run.location), diff, workdir)
    assert (fresh / "app.py").read_text() == "print('hello')\n"
    assert (fresh / "NOTES.md").read_text() == "Greeting changed.\n"


def turns_asked(fake_model: FakeAnthropic) -> list[int]:
    return sorted(turn_of(request) for request in fake_model.requests)


def test_kill_9_in_the_clone(scene: Scene) -> None:
    # GIVEN a repository whose packed refs are a FIFO: git's upload-pack waits in open() for a writer
    origin = scene.make_repo("cloning")
    job = submit(scene.settings, scene.store, [origin])
    fifo = origin / ".git" / "packed-refs"
    os.mkfifo(fifo)
    scene.script()
    dispatcher = scene.make_dispatcher()
    # WHEN the run starts, its clone waits there (while Claude's first reply, overlapping the clone, arrives)
    dispatcher.dispatch(job.id, [0])
    wait_for(lambda: len(scene.model.requests) == 1 and _upload_pack_waiting(dispatcher, job.id))
    # AND the remote is fixed (the waiting upload-pack stays in the open() it began), then the run's process
    # is killed: fixed after the kill, the resumed run, started at once by a waiting process, could be
    # caught in the FIFO too
    fifo.unlink()
    kill_9(dispatcher, job.id)
    run = finished(scene.store, job.id)
    # THEN the run was resumed from the start (no turn had finished) and succeeded
    assert_resumed_to_succeeded(run, from_turn=0)
    assert_patch_applies(scene.store, run, scene.workdir)
    # AND only turn 1, whose tools never ran, was asked again
    assert turns_asked(scene.model) == [1, 1, 2, 3]


def _upload_pack_waiting(dispatcher: SubprocessDispatcher, job_id: str) -> bool:
    """Whether a git upload-pack runs under the run's process: it cannot get past the FIFO, so the clone is
    in flight (on Linux its /proc/PID/wchan says `wait_for_partner`, the open() of a FIFO without a writer)."""
    pids = dispatcher.process_ids(job_id)
    for pid in descendants(pids[0]) if pids else set():
        with contextlib.suppress(OSError):
            if b"upload-pack" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
    return False


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_kill_9_in_each_turn(scene: Scene, turn: int) -> None:
    # GIVEN a run of three turns whose request for `turn` the model keeps waiting
    dispatcher, job_id, turns = scene.start(scene.settings, [scene.make_repo(f"turn{turn}")], held=turn)
    wait_for(lambda: len(scene.model.requests) == turn)
    # WHEN its process is killed while that request is in flight
    kill_9(dispatcher, job_id)
    turns.release.set()
    run = finished(scene.store, job_id)
    # THEN it was resumed from the turn before and succeeded with both edits
    assert_resumed_to_succeeded(run, from_turn=turn - 1)
    assert_patch_applies(scene.store, run, scene.workdir)
    # AND only the cut-off turn was asked twice
    assert turns_asked(scene.model) == sorted([1, 2, 3, turn])


def test_kill_9_past_the_resumptions_fails_as_before_keeping_the_finished_turn(scene: Scene) -> None:
    # GIVEN a run whose turn-2 request the model keeps waiting, on the default setting of 2 resumptions
    assert scene.settings.max_resumes == 2
    dispatcher, job_id, _ = scene.start(scene.settings, [scene.make_repo("doomed")], held=2)
    # WHEN its process is killed in turn 2, and again each time it is resumed there
    for asked in (2, 3, 4):
        _wait_for_requests(scene.model, asked)
        kill_9(dispatcher, job_id)
    run = finished(scene.store, job_id)
    # THEN it was resumed twice from turn 1, then failed with the error a dead worker has without resumption
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.RESUMED, 1)] * 2
    assert (run.status, run.attempt) == (RunStatus.FAILED, 1)
    assert run.error is not None and run.error.kind == "WORKER_DIED" and "SIGKILL" in run.error.message
    # AND turn 1 was asked once, its thread and checkpoint kept for a retry or a look
    assert turns_asked(scene.model) == [1, 2, 2, 2]
    assert run.checkpoint is not None and run.checkpoint.turn == 1


def _wait_for_requests(model: FakeAnthropic, count: int) -> None:
    wait_for(lambda: len(model.requests) == count)


def test_kill_9_in_validation(scene: Scene) -> None:
    # GIVEN a check command that, on the changed code only, marks that it runs and reads a FIFO no one writes,
    # both in its workspace (the one place a command may write)
    workspaces = scene.workdir / "workspaces"
    workspaces.mkdir()
    check = "if grep -q hello app.py; then mkfifo check.fifo; touch check.started; cat check.fifo; fi"
    settings = scene.settings.model_copy(update={"allow_commands": True, "workspace_dir": workspaces})
    dispatcher, job_id, _ = scene.start(settings, [scene.make_repo("validated")], check_command=check)
    # WHEN the run's process is killed while its check command runs
    wait_for(lambda: bool(held_checks(workspaces)))
    killed = held_checks(workspaces)
    assert scene.store.get_runs([job_id])[job_id][0].step == "validate"
    kill_9(dispatcher, job_id)
    # (and the resumed run's check is let go once it reads its FIFO too)
    wait_for(lambda: bool(held_checks(workspaces) - killed), timeout=PATIENCE)
    [resumed] = held_checks(workspaces) - killed
    wait_for(lambda: _reader_let_go(resumed), timeout=PATIENCE)
    run = finished(scene.store, job_id)
    # THEN it was resumed after its last turn and succeeded, the check run again to its end
    assert_resumed_to_succeeded(run, from_turn=3)
    assert run.validation is not None
    assert [c.status for c in run.validation.checks if c.name == f"after: {check}"] == [CheckStatus.PASSED]
    assert_patch_applies(scene.store, run, scene.workdir)
    # AND Claude was not asked again: its thread had ended
    assert turns_asked(scene.model) == [1, 2, 3]


def held_checks(workspaces: Path) -> set[Path]:
    """The FIFOs of the check commands under way in the runs' workspaces."""
    return {started.with_name("check.fifo") for started in workspaces.glob("*/*/check.started")}


def _reader_let_go(fifo: Path) -> bool:
    """Whether `fifo` had a reader (in its open() or read()), now let go: it was opened for writing and closed,
    so the reader reads its end. False while no one reads it yet: then the check is only on its way to `cat`,
    which would wait for ever on a FIFO replaced at that moment."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as err:
        if err.errno != errno.ENXIO:
            raise
        return False
    return True


def _release(fifo: Path) -> None:
    """Let any reader of `fifo` go (one outliving the kill in its own session), then make it an empty file."""
    with contextlib.suppress(OSError):  # ENXIO: no reader left
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    fifo.unlink()
    fifo.write_text("")


def test_kill_9_in_the_patch_step(scene: Scene) -> None:
    # GIVEN a database on which the write of a patch artifact stalls (until the run has been resumed)
    with stalled_patch_writes(scene.store.path):
        dispatcher, job_id, _ = scene.start(scene.settings, [scene.make_repo("patched")])
        # WHEN the run has recorded its patch step and is inside its first write there, the diff's
        wait_for(lambda: _step(scene.store, job_id) == "patch" and write_locked(scene.store.path))
        [stalled] = scene.store.get_runs([job_id])[job_id]
        stored_before = _patch_artifacts(scene.store, stalled.id)
        kill_9(dispatcher, job_id)
        run = finished(scene.store, job_id)
    # THEN the kill landed in the patch step: the step recorded, no patch on the run nor stored
    assert (stalled.status, stalled.step, stalled.patch, stored_before) == (RunStatus.VALIDATING, "patch", None, [])
    # AND the run was resumed after its last turn as the same attempt and succeeded with one patch that applies
    assert_resumed_to_succeeded(run, from_turn=3)
    assert run.patch is not None and run.patch.artifact_key == patch_key(run.id, 1)
    assert _patch_artifacts(scene.store, run.id) == [patch_key(run.id, 1)]
    assert_patch_applies(scene.store, run, scene.workdir)
    # AND Claude was not asked again: its thread had ended
    assert turns_asked(scene.model) == [1, 2, 3]


def _step(store: SqliteStore, job_id: str) -> str | None:
    return store.get_runs([job_id])[job_id][0].step


def _patch_artifacts(store: SqliteStore, run_id: str) -> list[str]:
    """Keys of the run's stored patches, read from the database itself (the store reads artifacts by key only)."""
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        rows = conn.execute("SELECT key FROM artifacts WHERE key LIKE ?", (f"patches/{run_id}/%",)).fetchall()
    return [key for (key,) in rows]


@pytest.fixture
def pull_request_settings(github_model_settings: Settings, fake_github: FakeGitHub) -> Settings:
    fake_github.add_repo(REPO, {"app.py": "print('hi')\n", "README.md": "# app\n"})
    return github_model_settings


@pytest.mark.parametrize("answered", [True, False], ids=["after GitHub opened it", "before"])
def test_kill_9_while_the_pull_request_is_opened(
    scene: Scene, pull_request_settings: Settings, fake_github: FakeGitHub, answered: bool
) -> None:
    # GIVEN the fake GitHub keeps back its answer to the pull request's creation (having opened it, or not yet)
    pulls = f"^/repos/{REPO}/pulls$"
    held = fake_github.hold("POST", pulls, before=not answered)
    dispatcher, job_id, _ = scene.start(pull_request_settings, [REPO], output=OutputMode.PULL_REQUEST)
    # WHEN the run's process is killed while it waits for that answer
    wait_for(held.arrived.is_set)
    kill_9(dispatcher, job_id)
    held.release.set()
    run = finished(scene.store, job_id)
    # THEN it was resumed after its last turn and succeeded with exactly one pull request, opened once
    assert_resumed_to_succeeded(run, from_turn=3)
    _assert_one_pull_request(fake_github, run)
    assert len(fake_github.requests_to("POST", pulls)) == 1 + (not answered)
    assert turns_asked(scene.model) == [1, 2, 3]


def test_kill_9_while_the_branch_is_pushed(
    scene: Scene, pull_request_settings: Settings, fake_github: FakeGitHub
) -> None:
    # GIVEN a remote whose pre-receive hook waits on a FIFO
    fifo = fake_github.hold_pushes(REPO)
    dispatcher, job_id, _ = scene.start(pull_request_settings, [REPO], output=OutputMode.PULL_REQUEST)
    # WHEN the run's process is killed while its push waits there: the FIFO moved aside first (the waiting hook
    # stays in the open() it began), so the push of the run resumed at once by a waiting process is not held
    wait_for(lambda: fake_github.push_held(REPO))
    held = fifo.rename(fifo.with_name("held-push"))
    kill_9(dispatcher, job_id)
    _release(held)
    run = finished(scene.store, job_id)
    # THEN it was resumed after its last turn, pushed again and opened exactly one pull request
    assert_resumed_to_succeeded(run, from_turn=3)
    _assert_one_pull_request(fake_github, run)
    assert turns_asked(scene.model) == [1, 2, 3]


def _assert_one_pull_request(fake: FakeGitHub, run: RepositoryRun) -> None:
    assert run.pull_request is not None
    assert [(p.repo, p.number) for p in fake.pulls] == [(REPO, run.pull_request.number)]
    branch = run.pull_request.branch
    assert fake.show(REPO, branch, "app.py") == "print('hello')\n"
    assert fake.show(REPO, branch, "NOTES.md") == "Greeting changed.\n"

"""Workspace checkpoints: the real agent loop against a fake Claude, real git, the checkpoint applied elsewhere."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from core.models import RunStatus
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn, view
from tests.integration.worker.conftest import run_all, submit


def _git(cwd: Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, input=data, check=True, capture_output=True).stdout.decode()


def _tree_at(origin: Path, base_commit: str, diff: bytes, dest: Path) -> str:
    """The tree of a fresh clone of `origin` at `base_commit` with `diff` applied."""
    subprocess.run(["git", "clone", "-q", str(origin), str(dest)], check=True)
    _git(dest, "checkout", "-q", "--detach", base_commit)
    _git(dest, "apply", "--index", "--binary", "-", data=diff)
    return _git(dest, "write-tree").strip()


def test_checkpoint_of_the_last_changing_turn_reproduces_the_tree_on_a_fresh_clone(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN a model that edits a file, creates one in a directory never checked out, then only looks
    origin = make_repo("checkpointed", {"app.py": "print('hi')\n", "lib/util.py": "X = 1\n"})
    job = submit(model_settings, store, [origin])
    fake_model.script(
        [
            tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
            tool_turn(edit("create", "docs/notes.md", file_text="greeting changed\n")),
            tool_turn(view("app.py")),
            text_turn("Changed the greeting."),
        ]
    )
    # WHEN the run is worked, and the repository moves on afterwards
    [run] = run_all(model_settings, store, job)
    (origin / "app.py").write_text("print('moved on')\n")
    _git(origin, "commit", "-qam", "later")
    # THEN the run kept a checkpoint of turn 2, the last turn whose tools changed files
    assert run.status is RunStatus.SUCCEEDED
    assert run.checkpoint is not None and run.patch is not None
    assert run.checkpoint.turn == 2
    assert run.checkpoint.base_commit == run.patch.base_commit
    diff = store.get_artifact(run.checkpoint.artifact_key)
    assert diff is not None and run.checkpoint.size_bytes == len(diff)
    # AND applied to a fresh clone at the base commit it gives the tree the final patch gives
    patch = store.get_artifact(run.patch.artifact_key)
    assert patch is not None
    resumed = tmp_path / "from-checkpoint"
    tree = _tree_at(origin, run.checkpoint.base_commit, diff, resumed)
    assert tree == _tree_at(origin, run.checkpoint.base_commit, patch, tmp_path / "from-patch")
    assert (resumed / "app.py").read_text() == "print('hello')\n"
    assert (resumed / "docs/notes.md").read_text() == "greeting changed\n"
    assert (resumed / "lib/util.py").read_text() == "X = 1\n"

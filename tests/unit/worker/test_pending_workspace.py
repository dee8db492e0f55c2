"""The background clone of a run: below the run's priority, so runs starting together reach the model first."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from worker.pending_workspace import CLONE_NICENESS, PendingWorkspace, before_check
from worker.validation import sandboxed_runner


def test_the_clone_runs_below_the_runs_priority_and_leaves_the_run_as_it_was(
    make_repo: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a `git` first on PATH that notes the nice value it runs at, then runs the real git
    repo = make_repo()
    real_git = shutil.which("git")
    noted = tmp_path / "nice.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f"#!/bin/sh\nawk '{{print $19}}' /proc/$$/stat >> {noted}\nexec {real_git} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    # WHEN a run's workspace is cloned in the background and waited for
    with ExitStack() as stack:
        pending = PendingWorkspace(stack, tmp_path, str(repo), None, before_check(None, sandboxed_runner(10.0)))
        workspace = pending.workspace()
        assert (workspace.path / "app.py").read_text() == "print('hi')\n"
    # THEN every git process of the clone ran CLONE_NICENESS levels below the run
    assert {int(n) for n in noted.read_text().split()} == {min(19, ours + CLONE_NICENESS)}
    # AND the run itself (the thread that started the clone) kept its priority
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours

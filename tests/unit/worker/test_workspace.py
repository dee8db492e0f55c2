"""Workspace: fresh clones with the base commit known, hooks off, size cap, cleanup."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import git
from worker.git_process import with_git_config
from worker.workspace import WorkspaceError, checkout, clone


def test_local_clone_records_base_commit_and_is_removed_afterwards(make_repo: Callable[..., Path]) -> None:
    # GIVEN a local repository
    origin = make_repo("alpha")
    head = git(origin, "rev-parse", "HEAD").strip()
    # WHEN it is checked out
    with checkout(str(origin)) as workspace:
        kept = workspace.path
        # THEN the clone holds its files and knows the commit it started from
        assert (kept / "app.py").read_text() == "print('hi')\n"
        assert workspace.base_commit == head
    # AND the temp dir is gone afterwards
    assert not kept.exists()


def test_file_url_clone_is_shallow(make_repo: Callable[..., Path]) -> None:
    # GIVEN a repository with two commits
    origin = make_repo("beta")
    (origin / "later.txt").write_text("later\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "second")
    # WHEN it is cloned through a file:// URL
    with checkout(f"file://{origin}") as workspace:
        # THEN only the newest commit is fetched
        assert git(workspace.path, "rev-list", "--count", "HEAD").strip() == "1"
        assert workspace.base_commit == git(origin, "rev-parse", "HEAD").strip()


def test_hooks_of_the_template_never_run(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    # GIVEN a git template dir whose post-checkout hook would leave a marker
    origin = make_repo("gamma")
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "template" / "hooks"
    hooks.mkdir(parents=True)
    hook = hooks / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    config = {"init.templateDir": str(tmp_path / "template")}
    # WHEN the repository is cloned, and a commit is made in the workspace
    with checkout(str(origin), config=config) as workspace:
        (workspace.path / "pre-commit-check").write_text("x")
        hooks_path = git(workspace.path, "config", "core.hooksPath").strip()
    # THEN no hook ran and the workspace keeps hooks off for later commands
    assert not marker.exists()
    assert hooks_path == "/dev/null"


def test_checkout_over_the_size_cap_fails_clearly(make_repo: Callable[..., Path]) -> None:
    # GIVEN a repository of about 200 KB
    origin = make_repo("big", {"blob.bin": os.urandom(200_000)})
    # WHEN it is cloned with a 100 KB cap
    with pytest.raises(WorkspaceError) as caught, checkout(str(origin), max_bytes=100_000):
        pass
    # THEN the error says so
    assert caught.value.kind == "REPOSITORY_TOO_LARGE"
    assert "size cap" in caught.value.message


def test_missing_repository_is_a_clone_error(tmp_path: Path) -> None:
    # WHEN a path that is no repository is cloned
    with pytest.raises(WorkspaceError) as caught:
        clone(str(tmp_path / "nothing"), tmp_path / "dest")
    # THEN it fails with a clone error naming the repository
    assert caught.value.kind == "CLONE_FAILED"
    assert "nothing" in caught.value.message


def test_snapshot_and_restore_drop_what_a_command_left(make_repo: Callable[..., Path]) -> None:
    # GIVEN a workspace with an edit by the agent
    origin = make_repo("delta")
    with checkout(str(origin)) as workspace:
        (workspace.path / "app.py").write_text("print('edited')\n")
        (workspace.path / "new.txt").write_text("new\n")
        tree = workspace.snapshot()
        # WHEN a command then changes and adds files
        (workspace.path / "app.py").write_text("garbage\n")
        (workspace.path / "build.log").write_text("log\n")
        (workspace.path / "new.txt").unlink()
        workspace.restore(tree)
        # THEN the agent's edit is back and the command's leftovers are gone
        assert (workspace.path / "app.py").read_text() == "print('edited')\n"
        assert (workspace.path / "new.txt").read_text() == "new\n"
        assert not (workspace.path / "build.log").exists()


def test_existing_git_config_entries_are_kept() -> None:
    # GIVEN an env that already carries one GIT_CONFIG entry
    env = with_git_config({}, {"url.x.insteadOf": "y"})
    # WHEN more are added
    merged = with_git_config(env, {"core.hooksPath": "/dev/null"})
    # THEN both are present and git sees them
    out = subprocess.run(
        ["git", "config", "--get", "url.x.insteadOf"], env={**os.environ, **merged}, capture_output=True, text=True
    )
    assert merged["GIT_CONFIG_COUNT"] == "2"
    assert out.stdout.strip() == "y"

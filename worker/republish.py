"""A retry of a run that failed only at publishing: its stored patch again, without running Claude again."""

from __future__ import annotations

from pathlib import Path

from core.errors import RunErrorKind, RunFailure
from core.models import RepositoryRun, RunAttempt, RunStatus
from worker.git_process import decode
from worker.workspace import Workspace, clone

PUBLISH_STEP = "publish"


class RestoreError(RunFailure):
    """The stored patch could not be put back on its base commit."""

    kind = RunErrorKind.RESTORE_FAILED


def republishable(run: RepositoryRun) -> RunAttempt | None:
    """The earlier attempt whose patch this attempt publishes again, when that attempt failed only at publishing."""
    last = run.attempts[-1] if run.attempts else None
    if last is None or last.status is not RunStatus.FAILED or last.step != PUBLISH_STEP or last.patch is None:
        return None
    return last


def restore_patch(url: str, dest: Path, token: str | None, base_commit: str | None, diff: bytes) -> Workspace:
    """A clone of `url` at `base_commit` with `diff` applied to its working tree."""
    workspace = clone_at(url, dest, token, base_commit)
    apply_diff(workspace, diff)
    return workspace


def clone_at(url: str, dest: Path, token: str | None, base_commit: str | None) -> Workspace:
    """A full clone of `url` checked out at `base_commit` (default: the default branch's head)."""
    workspace = clone(url, dest, token=token)
    if base_commit and workspace.base_commit != base_commit:
        # The default branch moved on since: the patch belongs on the commit it was made from.
        fetched = workspace.run(["fetch", "--quiet", "--depth=1", "origin", base_commit], token=token)
        if fetched.returncode != 0:
            raise RestoreError(f"the patch's base commit {base_commit[:12]} is no longer on the remote")
        workspace.git("checkout", "--quiet", "--detach", base_commit)
        workspace.base_commit = base_commit
    return workspace


def apply_diff(workspace: Workspace, diff: bytes) -> None:
    """Apply a stored binary diff to the workspace's working tree; RestoreError if it does not apply."""
    if not diff:
        return
    applied = workspace.run(["apply", "--binary", "-"], input=diff)
    if applied.returncode != 0:
        reason = decode(applied.stderr).strip().splitlines()
        raise RestoreError(f"the stored patch no longer applies: {reason[-1] if reason else 'git apply failed'}")

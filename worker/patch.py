"""The change a run made, as a binary-safe git diff with per-file stats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import RunErrorKind
from core.models import FileChange, Patch, PatchFile
from worker.git_process import GitError
from worker.workspace import Workspace, WorkspaceError

# Stable output whatever the user's git config says (prefixes, colour, external diff).
_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "-M")
_INVALID_PATH = re.compile(r"invalid path '(.*)'")
_CHANGE = {
    "A": FileChange.ADDED,
    "M": FileChange.MODIFIED,
    "D": FileChange.DELETED,
    "R": FileChange.RENAMED,
    "T": FileChange.MODIFIED,
    "C": FileChange.ADDED,
}


class Unstageable(WorkspaceError):
    """The change cannot become a patch; raised by validation or patch, whichever staged it first."""

    step = None


class ForbiddenPath(Unstageable):
    """The change holds a path git refuses to store (a `.git` variant a command created)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            RunErrorKind.FORBIDDEN_PATH,
            f"the change creates {path!r}, a name git treats as .git (on Windows or macOS it names the git "
            "directory), so it cannot be part of a patch",
        )


class PatchTooLarge(Unstageable):
    """The change's diff is over the size cap: nothing is stored."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            RunErrorKind.PATCH_TOO_LARGE,
            f"the change's diff is larger than the patch size cap of {cap:,} bytes "
            "(CODY_BATCH_MAX_PATCH_BYTES); nothing was stored",
        )


@dataclass
class Diff:
    """A staged change against the base commit: the diff bytes and file stats."""

    data: bytes
    files: list[PatchFile]

    @property
    def empty(self) -> bool:
        return not self.files


def _fields(out: str) -> list[str]:
    parts = out.split("\0")
    return parts[:-1] if parts and parts[-1] == "" else parts


def _changes(workspace: Workspace) -> list[tuple[FileChange, str]]:
    """(change kind, path) for every staged file; renames name the new path."""
    fields = _fields(workspace.git("diff", "--cached", "--name-status", "-z", *_DIFF_OPTIONS, workspace.base_commit))
    out = []
    i = 0
    while i < len(fields):
        status = fields[i]
        if status[0] in "RC":
            out.append((_CHANGE[status[0]], fields[i + 2]))
            i += 3
        else:
            out.append((_CHANGE.get(status[0], FileChange.MODIFIED), fields[i + 1]))
            i += 2
    return out


def _numstat(workspace: Workspace) -> dict[str, tuple[int, int, bool]]:
    """Path -> (additions, deletions, binary); `-z` keeps odd file names intact."""
    fields = _fields(workspace.git("diff", "--cached", "--numstat", "-z", *_DIFF_OPTIONS, workspace.base_commit))
    out: dict[str, tuple[int, int, bool]] = {}
    i = 0
    while i < len(fields):
        added, deleted, path = fields[i].split("\t", 2)
        if path == "":  # a rename: the old and new paths follow as their own fields
            path = fields[i + 2]
            i += 3
        else:
            i += 1
        binary = added == "-"
        out[path] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
    return out


def stage(workspace: Workspace, max_bytes: int | None = None) -> Diff:
    """Stage everything in the working tree and diff it against the base commit.

    In a lazy workspace, files never checked out are skip-worktree entries: `add -A` leaves
    them as they are (not deleted); `--sparse` lets it stage new files outside the patterns.
    A diff over `max_bytes` is PatchTooLarge, found without holding more than that in memory.
    """
    try:
        workspace.git("add", "-A", "--sparse")
    except GitError as err:
        invalid = _INVALID_PATH.search(err.stderr)
        if invalid is None:
            raise
        raise ForbiddenPath(invalid[1]) from None
    stats = _numstat(workspace)
    files = []
    for change, path in _changes(workspace):
        additions, deletions, binary = stats.get(path, (0, 0, False))
        files.append(PatchFile(path=path, change=change, additions=additions, deletions=deletions, binary=binary))
    if not files:
        return Diff(data=b"", files=files)
    diff_args = ("diff", "--cached", "--binary", *_DIFF_OPTIONS, workspace.base_commit)
    if max_bytes is None:
        return Diff(data=workspace.git_bytes(*diff_args), files=files)
    data = workspace.read_capped(*diff_args, limit=max_bytes)
    if data is None:
        raise PatchTooLarge(max_bytes)
    return Diff(data=data, files=files)


def changed_paths(workspace: Workspace) -> list[str]:
    """Paths added, modified or renamed (not deleted) since the base commit."""
    return [f.path for f in stage(workspace).files if f.change is not FileChange.DELETED]


def patch_key(run_id: str, attempt: int) -> str:
    """Artifact key of a run attempt's diff."""
    return f"patches/{run_id}/{attempt}.diff"


def to_patch(diff: Diff, key: str, base_commit: str) -> Patch:
    """The stored description of a diff kept at `key`."""
    return Patch(
        artifact_key=key,
        files=diff.files,
        additions=sum(f.additions for f in diff.files),
        deletions=sum(f.deletions for f in diff.files),
        base_commit=base_commit,
        size_bytes=len(diff.data),
    )

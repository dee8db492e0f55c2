"""A workspace's git directory as the worker left it, put back before each of its git calls.

Commands run as the worker's user, so they can write the git directory (it lives next to the
work tree, which holds only a `.git` file naming it). git always reads the repository's own
config, and the keys there (filter, textconv and merge drivers named by .gitattributes,
`include.path`, `core.worktree`, ...) are too many to pin one by one. So the worker keeps the
config git wrote itself, and before each of its git calls (the first one after any command)
writes it back, drops any file that would make git read config from elsewhere, and checks
that neither directory was swapped for another.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

# Every file of the git dir that git reads configuration from, or that sends it to another
# directory for it (a common dir, with its own config). Each is kept as the worker's own git
# calls left it, absent ones absent.
CONFIG_FILES = ("config", "config.worktree", "commondir")


# The object stores each workspace of this process borrows (`git clone --shared` of a local
# repository), read when it is cloned, before any command could rewrite its alternates file:
# a command's sandbox shows exactly these, read-only, so its own git finds the base commit.
_BORROWED: dict[Path, tuple[Path, ...]] = {}


def read_alternates(git_dir: Path) -> tuple[Path, ...]:
    """The object directories `git_dir` borrows, as its alternates file names them now."""
    objects = git_dir / "objects"
    listed = regular_file_bytes(objects / "info" / "alternates") or b""
    lines = [line.strip() for line in os.fsdecode(listed).splitlines()]
    return tuple((objects / line).resolve() for line in lines if line and not line.startswith("#"))


def borrowed(git_dir: Path) -> tuple[Path, ...]:
    """The object directories `git_dir` borrowed when it was cloned (none if this process did not clone it)."""
    return _BORROWED.get(git_dir.resolve(), ())


def beside(work_tree: Path) -> Path:
    """Where the worker keeps the git directory of `work_tree`: next to it, never inside."""
    return work_tree.with_name(work_tree.name + ".git")


class GitDirReplaced(Exception):
    """The work tree or the git directory is no longer the one the worker cloned into."""


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what `path` names now, symlinks followed; None if nothing is there."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def remove(path: Path) -> None:
    """Remove whatever `path` is (file, symlink, directory tree) without following a symlink."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def regular_file_bytes(path: Path) -> bytes | None:
    """The content of `path` if it is a regular file (not a symlink), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return file.read()


def write_new(path: Path, data: bytes) -> None:
    """Create `path` afresh with `data` (never writing through a symlink planted there)."""
    remove(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


@dataclass
class GitDirGuard:
    """The work tree and git directory of one workspace, and the config the worker trusts."""

    work_tree: Path
    git_dir: Path
    identities: tuple[tuple[int, int] | None, tuple[int, int] | None]
    config: dict[str, bytes | None]

    @classmethod
    def record(cls, work_tree: Path, git_dir: Path) -> GitDirGuard:
        """Trust the directories and config as they are now (right after the clone, before any command)."""
        guard = cls(work_tree, git_dir, (identity(work_tree), identity(git_dir)), {})
        guard.trust_config()
        _BORROWED[git_dir.resolve()] = read_alternates(git_dir)
        return guard

    def trust_config(self) -> None:
        """Take the config as it is now: the worker's own git call just changed it (sparse checkout)."""
        self.config = {name: regular_file_bytes(self.git_dir / name) for name in CONFIG_FILES}

    def enforce(self) -> None:
        """Put the git directory back as trusted; GitDirReplaced if a directory was swapped."""
        if (identity(self.work_tree), identity(self.git_dir)) != self.identities:
            raise GitDirReplaced(
                "the workspace or its git directory was replaced while the run was under way (by a command?)"
            )
        for name, trusted in self.config.items():
            path = self.git_dir / name
            if regular_file_bytes(path) == trusted:
                continue
            if trusted is None:
                remove(path)
            else:
                write_new(path, trusted)

"""A fresh, disposable clone of one repository for one run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import RunErrorKind, RunFailure
from worker.git_auth import with_credentials
from worker.git_dir import GitDirGuard, GitDirReplaced
from worker.git_dir import beside as git_dir_beside
from worker.git_process import (
    GitError,
    base_environment,
    decode,
    operator_rewrites,
    read_git,
    run_git,
    with_git_config,
)

CLONE_TIMEOUT_SECONDS = 600.0
MAX_CHECKOUT_BYTES = 500 * 1024 * 1024
# A lazy workspace starts with the files at the root only (no-cone sparse-checkout patterns).
ROOT_FILES_ONLY = "/*\n!/*/\n"
_SPECIAL = frozenset("*?[]\\ !#")


class WorkspaceError(RunFailure):
    """The workspace cannot be used (checkout, or what a command did to it); the message is safe to show."""

    # The clone runs while Claude's first call is under way, so when it fails the run's step
    # may already say "agent": the failure is recorded under the step it belongs to.
    step: str | None = "clone"

    def __init__(self, kind: RunErrorKind, message: str) -> None:
        super().__init__(message, kind)


def is_remote(url: str) -> bool:
    """True for URLs (shallow clones); local paths are cloned in full so the base is known."""
    return "://" in url or url.startswith("git@")


def sparse_pattern(path: str) -> str | None:
    """The no-cone pattern matching exactly `path` (relative, posix); None if no pattern can say it."""
    if "\n" in path or "\r" in path:
        return None
    return "/" + "".join(f"\\{char}" if char in _SPECIAL else char for char in path)


def tree_size(root: Path, limit: int) -> int:
    """Bytes under `root` (symlinks not followed), stopping early once over `limit`."""
    total = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_size
                    if total > limit:
                        return total
    return total


class WorkspaceTampered(WorkspaceError):
    """A command replaced the work tree or its git directory: the run cannot go on safely."""

    step = None  # whichever step was under way


@dataclass
class Workspace:
    """A checked-out repository: its work tree, its git dir (outside the tree), the commit it started from."""

    path: Path
    git_dir: Path
    base_commit: str
    guard: GitDirGuard
    env: dict[str, str] = field(default_factory=base_environment)  # the whole environment of its git calls
    sparse: bool = False  # only the root files and what `include` added are on disk
    max_bytes: int = MAX_CHECKOUT_BYTES
    url: str = ""

    def run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        token: str | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """git `args` on this workspace, its git dir checked first; `token` for calls that reach GitHub."""
        located = self._environment(env, token)
        return run_git(args, cwd=self.path, env=located, input=input, timeout=timeout)

    def read_capped(self, *args: str, limit: int) -> bytes | None:
        """git's stdout, or None once it is over `limit` bytes (git is stopped there); GitError if it fails."""
        status, data, errors = read_git(args, cwd=self.path, env=self._environment(None, None), limit=limit)
        if len(data) > limit:
            return None
        if status != 0:
            raise GitError(args, status, errors)
        return data

    def _environment(self, env: Mapping[str, str] | None, token: str | None) -> dict[str, str]:
        """The environment of a git call, once the git dir is back as the worker left it."""
        try:
            self.guard.enforce()
        except GitDirReplaced as err:
            raise WorkspaceTampered(RunErrorKind.WORKSPACE_TAMPERED, str(err)) from None
        # Named explicitly: a `.git` file or `core.worktree` a command planted is never followed.
        located = {**self.env, **(env or {}), "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.path)}
        return with_credentials(located, token)

    def git_bytes(self, *args: str, input: bytes | None = None) -> bytes:
        """Run git in the workspace; its raw stdout (diffs of files in any encoding); GitError if it fails."""
        done = self.run(args, input=input)
        if done.returncode != 0:
            raise GitError(args, done.returncode, decode(done.stderr))
        return done.stdout

    def git(self, *args: str) -> str:
        """Run git in the workspace; its stdout as text; GitError if it fails."""
        return decode(self.git_bytes(*args))

    def include(self, paths: list[str]) -> None:
        """Check out these tracked paths too (and keep files written there in the checkout)."""
        if not self.sparse or not paths:
            return
        patterns = [sparse_pattern(path) for path in paths]
        if None in patterns:  # a name no pattern can match: give up on laziness
            self.expand()
            return
        listed = "".join(f"{pattern}\n" for pattern in patterns)
        self.git_bytes("sparse-checkout", "add", "--stdin", input=listed.encode())

    def expand(self) -> None:
        """Check out every file (commands may read any of them); a no-op once done."""
        if not self.sparse:
            return
        # Checked here, not at the clone: listing every blob's size costs more than a lazy run needs.
        size = tree_size(self.git_dir, self.max_bytes) + blob_bytes(self)
        if size > self.max_bytes:
            raise too_large(self.url, self.max_bytes)
        self.git("sparse-checkout", "disable")
        self.guard.trust_config()  # git itself turned sparse checkout off in the config
        self.sparse = False

    def snapshot(self) -> str:
        """A tree object of the working tree as it is now (untracked files included)."""
        self.git("add", "-A")
        return self.git("write-tree").strip()

    def restore(self, tree: str) -> None:
        """Put the working tree back to `tree`, dropping what a check command left behind."""
        self.git("read-tree", "--reset", "-u", tree)
        self.git("clean", "-ffdq")


def clone(
    url: str,
    dest: Path,
    *,
    token: str | None = None,
    config: Mapping[str, str] | None = None,
    timeout: float = CLONE_TIMEOUT_SECONDS,
    max_bytes: int = MAX_CHECKOUT_BYTES,
    lazy: bool = False,
) -> Workspace:
    """Clone `url` into `dest` (absent or empty), its git dir next to it, and record the base commit.

    `token` authenticates this clone only; `config` adds git config entries to every git call
    of the workspace. `lazy` checks out the root files only; `Workspace.include` brings in more
    on demand.
    """
    env = with_git_config(base_environment(operator_rewrites()), config or {})
    git_dir = git_dir_beside(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Hooks off in the config too, for the git of commands (the worker pins them off anyway).
    args = ["clone", "--quiet", "--no-recurse-submodules", "--separate-git-dir", str(git_dir)]
    args += ["--config", f"core.hooksPath={os.devnull}"]
    if lazy:
        args += ["--no-checkout", "--config", "core.sparseCheckout=true", "--config", "core.sparseCheckoutCone=false"]
    if is_remote(url):
        args += ["--depth", "1"]
    else:
        # Borrow the local repository's objects instead of copying them: the workspace lives
        # only as long as the run, and git never writes into a borrowed object store.
        args += ["--shared"]
    try:
        authenticated = with_credentials(env, token if is_remote(url) else None)  # a local path needs none
        done = run_git([*args, "--", url, str(dest)], cwd=dest.parent, env=authenticated, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise WorkspaceError(RunErrorKind.CLONE_TIMEOUT, f"cloning {url} took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        detail = decode(done.stderr).strip().splitlines()
        reason = detail[-1] if detail else f"git exited with status {done.returncode}"
        raise WorkspaceError(RunErrorKind.CLONE_FAILED, f"could not clone {url}: {reason}")
    if tree_size(dest, max_bytes) + tree_size(git_dir, max_bytes) > max_bytes:  # lazy: the rest when it expands
        raise too_large(url, max_bytes)
    guard = GitDirGuard.record(dest, git_dir)
    workspace = Workspace(dest, git_dir, "", guard, env=env, sparse=lazy, max_bytes=max_bytes, url=url)
    try:
        workspace.base_commit = workspace.git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitError:
        raise WorkspaceError(RunErrorKind.EMPTY_REPOSITORY, f"{url} has no commits to change") from None
    if lazy:
        (git_dir / "info").mkdir(exist_ok=True)
        (git_dir / "info" / "sparse-checkout").write_text(ROOT_FILES_ONLY)
        workspace.git("checkout", "--quiet")
    return workspace


def too_large(url: str, max_bytes: int) -> WorkspaceError:
    """The error of a repository over the checkout size cap."""
    cap = max_bytes // (1024 * 1024)
    return WorkspaceError(RunErrorKind.REPOSITORY_TOO_LARGE, f"{url} is over the checkout size cap of {cap} MB")


def blob_bytes(workspace: Workspace) -> int:
    """Bytes of every file in the base commit's tree: what a full checkout writes."""
    total = 0
    for entry in workspace.git("ls-tree", "-r", "-l", "-z", workspace.base_commit).split("\0"):
        size = entry.split(None, 4)[3] if entry else "-"
        total += int(size) if size.isdigit() else 0  # "-" for submodules
    return total


@contextmanager
def scratch_dir(parent: Path | None = None) -> Iterator[Path]:
    """A fresh temp dir, removed afterwards whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix="cody-batch-", dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def checkout(
    url: str,
    *,
    token: str | None = None,
    config: Mapping[str, str] | None = None,
    timeout: float = CLONE_TIMEOUT_SECONDS,
    max_bytes: int = MAX_CHECKOUT_BYTES,
    parent: Path | None = None,
    lazy: bool = False,
) -> Iterator[Workspace]:
    """A clone of `url` in a fresh temp dir, removed afterwards whatever happens."""
    with scratch_dir(parent) as tmp:
        yield clone(url, tmp / "repo", token=token, config=config, timeout=timeout, max_bytes=max_bytes, lazy=lazy)

"""A fresh, disposable clone of one repository for one run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from git import GitCommandError, Repo
from git.cmd import Git

CLONE_TIMEOUT_SECONDS = 600.0
MAX_CHECKOUT_BYTES = 500 * 1024 * 1024
# A lazy workspace starts with the files at the root only (no-cone sparse-checkout patterns).
ROOT_FILES_ONLY = "/*\n!/*/\n"
_SPECIAL = frozenset("*?[]\\ !#")

# Hooks could run code from a template dir; submodules could fetch other repositories.
SAFE_GIT_CONFIG = {
    "core.hooksPath": "/dev/null",
    "submodule.recurse": "false",
    "protocol.file.allow": "always",
    "advice.detachedHead": "false",
}


class WorkspaceError(Exception):
    """The repository could not be checked out; the message is safe to show."""

    # The clone runs while Claude's first call is under way, so when it fails the run's step
    # may already say "agent": the failure is recorded under the step it belongs to.
    step = "clone"

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def with_git_config(env: Mapping[str, str], config: Mapping[str, str]) -> dict[str, str]:
    """`env` plus `config` as GIT_CONFIG_KEY_n/VALUE_n entries, appended to any already there."""
    out = dict(env)
    count = int(out.get("GIT_CONFIG_COUNT", "0") or 0)
    for key, value in config.items():
        out[f"GIT_CONFIG_KEY_{count}"] = key
        out[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    out["GIT_CONFIG_COUNT"] = str(count)
    return out


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


@dataclass
class Workspace:
    """A checked-out repository: its path, the commit it started from, the git env to use."""

    path: Path
    base_commit: str
    env: dict[str, str] = field(default_factory=dict)
    sparse: bool = False  # only the root files and what `include` added are on disk
    max_bytes: int = MAX_CHECKOUT_BYTES
    url: str = ""

    @property
    def repo(self) -> Repo:
        return Repo(self.path)

    def git(self, *args: str, timeout: float | None = None) -> str:
        """Run git in the workspace with hooks disabled; returns stdout."""
        return str(
            Git(self.path).execute(
                ["git", *args],
                env=self.env,
                kill_after_timeout=timeout,
                strip_newline_in_stdout=False,
            )
        )

    def git_bytes(self, *args: str) -> bytes:
        """Run git in the workspace; returns raw stdout (diffs of files in any encoding)."""
        out = Git(self.path).execute(
            ["git", *args], env=self.env, stdout_as_string=False, strip_newline_in_stdout=False
        )
        return bytes(out) if not isinstance(out, bytes) else out

    def include(self, paths: list[str]) -> None:
        """Check out these tracked paths too (and keep files written there in the checkout)."""
        if not self.sparse or not paths:
            return
        patterns = [sparse_pattern(path) for path in paths]
        if None in patterns:  # a name no pattern can match: give up on laziness
            self.expand()
            return
        listed = "".join(f"{pattern}\n" for pattern in patterns)
        subprocess.run(
            ["git", "sparse-checkout", "add", "--stdin"],
            cwd=self.path,
            env={**os.environ, **self.env},
            input=listed.encode(),
            capture_output=True,
            check=True,
        )

    def expand(self) -> None:
        """Check out every file (commands may read any of them); a no-op once done."""
        if not self.sparse:
            return
        # Checked here, not at the clone: listing every blob's size costs more than a lazy run needs.
        size = tree_size(self.path / ".git", self.max_bytes) + blob_bytes(self)
        if size > self.max_bytes:
            raise too_large(self.url, self.max_bytes)
        self.git("sparse-checkout", "disable")
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
    env: Mapping[str, str] | None = None,
    timeout: float = CLONE_TIMEOUT_SECONDS,
    max_bytes: int = MAX_CHECKOUT_BYTES,
    lazy: bool = False,
) -> Workspace:
    """Clone `url` into `dest` (absent or empty) and record the base commit.

    `lazy` checks out the root files only; `Workspace.include` brings in more on demand.
    """
    git_env = with_git_config(env or {}, SAFE_GIT_CONFIG)
    # Later git commands in the workspace (add, commit for a pull request) skip hooks too.
    args = ["git", "clone", "--quiet", "--no-recurse-submodules", "--config", "core.hooksPath=/dev/null"]
    if lazy:
        args += ["--no-checkout", "--config", "core.sparseCheckout=true", "--config", "core.sparseCheckoutCone=false"]
    if is_remote(url):
        args += ["--depth", "1"]
    else:
        # Borrow the local repository's objects instead of copying them: the workspace lives
        # only as long as the run, and git never writes into a borrowed object store.
        args += ["--shared"]
    try:
        Git(dest.parent).execute([*args, "--", url, str(dest)], env=git_env, kill_after_timeout=timeout)
    except GitCommandError as err:
        if err.status == -9 or "Timeout" in str(err.stderr) or "timed out" in str(err):
            raise WorkspaceError("CLONE_TIMEOUT", f"cloning {url} took longer than {timeout:.0f} s") from None
        detail = (err.stderr or "").strip().splitlines()
        reason = detail[-1] if detail else f"git exited with status {err.status}"
        raise WorkspaceError("CLONE_FAILED", f"could not clone {url}: {reason}") from None
    if tree_size(dest, max_bytes) > max_bytes:  # a lazy clone: its .git only, the rest when it expands
        raise too_large(url, max_bytes)
    workspace = Workspace(path=dest, base_commit="", env=git_env, sparse=lazy, max_bytes=max_bytes, url=url)
    try:
        workspace.base_commit = workspace.git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitCommandError:
        raise WorkspaceError("EMPTY_REPOSITORY", f"{url} has no commits to change") from None
    if lazy:
        (dest / ".git" / "info").mkdir(exist_ok=True)
        (dest / ".git" / "info" / "sparse-checkout").write_text(ROOT_FILES_ONLY)
        workspace.git("checkout", "--quiet")
    return workspace


def too_large(url: str, max_bytes: int) -> WorkspaceError:
    """The error of a repository over the checkout size cap."""
    cap = max_bytes // (1024 * 1024)
    return WorkspaceError("REPOSITORY_TOO_LARGE", f"{url} is over the checkout size cap of {cap} MB")


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
    env: Mapping[str, str] | None = None,
    timeout: float = CLONE_TIMEOUT_SECONDS,
    max_bytes: int = MAX_CHECKOUT_BYTES,
    parent: Path | None = None,
    lazy: bool = False,
) -> Iterator[Workspace]:
    """A clone of `url` in a fresh temp dir, removed afterwards whatever happens."""
    with scratch_dir(parent) as tmp:
        yield clone(url, tmp / "repo", env=env, timeout=timeout, max_bytes=max_bytes, lazy=lazy)

"""A fresh, disposable clone of one repository for one run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from git import GitCommandError, Repo
from git.cmd import Git

CLONE_TIMEOUT_SECONDS = 600.0
MAX_CHECKOUT_BYTES = 500 * 1024 * 1024

# Hooks could run code from a template dir; submodules could fetch other repositories.
SAFE_GIT_CONFIG = {
    "core.hooksPath": "/dev/null",
    "submodule.recurse": "false",
    "protocol.file.allow": "always",
    "advice.detachedHead": "false",
}


class WorkspaceError(Exception):
    """The repository could not be checked out; the message is safe to show."""

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
) -> Workspace:
    """Clone `url` into `dest` (absent or empty) and record the base commit."""
    git_env = with_git_config(env or {}, SAFE_GIT_CONFIG)
    args = ["git", "clone", "--quiet", "--no-recurse-submodules"]
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
    size = tree_size(dest, max_bytes)
    if size > max_bytes:
        raise WorkspaceError(
            "REPOSITORY_TOO_LARGE",
            f"{url} is over the checkout size cap of {max_bytes // (1024 * 1024)} MB",
        )
    repo = Repo(dest)
    if not repo.head.is_valid():
        raise WorkspaceError("EMPTY_REPOSITORY", f"{url} has no commits to change")
    with repo.config_writer() as config:
        # Later git commands in the workspace (add, commit for a pull request) skip hooks too.
        config.set_value("core", "hooksPath", "/dev/null")
    return Workspace(path=dest, base_commit=repo.head.commit.hexsha, env=git_env)


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
) -> Iterator[Workspace]:
    """A clone of `url` in a fresh temp dir, removed afterwards whatever happens."""
    with scratch_dir(parent) as tmp:
        yield clone(url, tmp / "repo", env=env, timeout=timeout, max_bytes=max_bytes)

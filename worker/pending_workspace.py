"""A clone under way in the background, and the check command's run on the unchanged code.

Claude's first call needs no files, so it overlaps the clone (and the "before" check, which
runs on the fresh clone); whatever needs the files waits here. This object owns that
concurrency: its thread, its clean-up, and which error is the real cause when it fails.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import RunCancelled
from worker.agent.command import kill_running_commands
from worker.republish import apply_diff, clone_at
from worker.validation import CheckRun, CommandRunner, run_check
from worker.workspace import Workspace, clone, scratch_dir

# Nice levels below the run for the clone's git processes. A job's runs start together and the
# clone is not needed before Claude's first answer, so it yields the CPU to the other runs
# still on their way to their first model request, instead of delaying them.
CLONE_NICENESS = 5


def _lower_priority() -> None:
    # Per thread on Linux, and inherited by the git processes this thread starts; the check
    # command runs on another thread, at the run's own priority.
    os.nice(CLONE_NICENESS)


@dataclass(frozen=True)
class Checkpointed:
    """Where a resumed run's workspace starts: the base commit (None: the default branch) and a diff."""

    base_commit: str | None
    diff: bytes


@dataclass(frozen=True)
class Cloned:
    """A finished clone and, when the job has a check command, its run before any change."""

    workspace: Workspace
    before: CheckRun | None


class PendingWorkspace:
    """A lazy clone of `url` started in the background; `workspace()` waits for it (raising its error)."""

    def __init__(
        self,
        stack: ExitStack,
        workspace_dir: Path | None,
        url: str,
        token: str | None,
        check: Callable[[Workspace], CheckRun | None],
        restore: Checkpointed | None = None,
    ) -> None:
        self.path = stack.enter_context(scratch_dir(workspace_dir)) / "repo"
        self.path.mkdir()
        self._cloned = threading.Event()  # the clone itself is over, failed or not (the check may run on)
        self._clone_error: Exception | None = None
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone")
        stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        self._git = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone-git", initializer=_lower_priority)
        stack.callback(self._git.shutdown, wait=True, cancel_futures=True)
        # Unwinding (a cancelled run) ends the check command first, so the shutdown above does not
        # wait for it: callbacks run last-registered first.
        stack.callback(kill_running_commands)
        self._future: Future[Cloned] = executor.submit(self._prepare, url, token, check, restore)

    def _prepare(
        self, url: str, token: str | None, check: Callable[[Workspace], CheckRun | None], restore: Checkpointed | None
    ) -> Cloned:
        try:
            # Lazy: only the root files now; the file tools check out what they touch, a command gets all.
            # Resuming: the files as the last saved turn left them, the check run on the unchanged code first.
            if restore is None:
                cloning = self._git.submit(clone, url, self.path, token=token, lazy=True)
            else:
                cloning = self._git.submit(clone_at, url, self.path, token, restore.base_commit)
            workspace = cloning.result()
        except Exception as err:
            self._clone_error = err
            raise
        finally:
            self._cloned.set()
        before = check(workspace)
        if restore is not None:
            apply_diff(workspace, restore.diff)
        return Cloned(workspace, before)

    def workspace(self) -> Workspace:
        """The workspace, once cloned (waiting for the clone; raising its error if it failed)."""
        return self._future.result().workspace

    def before(self) -> CheckRun | None:
        """The check command's result on the unchanged code (None without a check command)."""
        return self._future.result().before

    @contextmanager
    def as_cause(self) -> Iterator[None]:
        """Whatever fails inside, a clone that failed meanwhile is the real cause and is raised instead."""
        try:
            yield
        except RunCancelled:
            raise
        except Exception as err:
            # Claude's call may fail before the clone does (a model error, say): wait for the clone to
            # be over, as the attempt's clean-up does anyway, so a failed clone is still named. Not
            # for the check command that follows it, which the clean-up stops instead.
            self._cloned.wait()
            future = self._future
            done = future.done() and not future.cancelled()
            cause = self._clone_error or (future.exception() if done else None)
            if cause is None:
                raise
            raise cause from err


def before_check(command: str | None, runner: CommandRunner) -> Callable[[Workspace], CheckRun | None]:
    """What the background clone runs once it has the files: the check command, if the job has one."""
    if command is None:
        return lambda workspace: None
    return lambda workspace: run_check(runner, workspace, command)

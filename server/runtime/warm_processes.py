"""WarmRunProcesses: run processes forked ahead of time, each waiting for the one run it will work."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

from core.settings import Settings
from server.runtime.process_group import RunProcessGroup
from server.runtime.run_process import RunOrder, serve_one_run

logger = logging.getLogger(__name__)

# How long after a run took a waiting process its replacement is forked: not at once, as the
# fork and the new process's set-up would take CPU from the runs just started, before their
# first model call; by then those are waiting for the model.
REFILL_DELAY_SECONDS = 0.5


@dataclass(frozen=True)
class RunProcessStart:
    """A run process and the write end of its order pipe, until it is sent its one order."""

    process: BaseProcess
    orders: Connection

    def send(self, order: RunOrder) -> RunProcessGroup:
        """Hand the process its run (an OSError when it died meanwhile); the pipe is closed after. Its group."""
        try:
            if self.process.pid is None:
                raise ProcessLookupError("the run process was never started")
            # Opened before the order goes: the order can only be written while the process holds the pipe's
            # other end, so a sent order proves the pidfd names this process, not one that took its id since.
            group = RunProcessGroup(self.process.pid)
            try:
                self.orders.send(order)
            except BaseException:
                group.release()
                raise
            return group
        finally:
            self.orders.close()

    def dismiss(self, grace: float) -> None:
        """End a process that got no order: closing its pipe makes it exit; after `grace`, SIGKILL."""
        with contextlib.suppress(OSError):
            self.orders.close()
        self.process.join(grace)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()


class WarmRunProcesses:
    """Up to `size` forked, set-up run processes waiting for an order; `start` forks one more on demand.

    With one waiting per repository of a job, a new job's runs all begin at once, with no fork
    between `createJob` and their first model call: starting them one after another took 5-50 ms
    each (every start waits for the forkserver to fork), which the last run's first call waited for.
    """

    def __init__(
        self,
        ctx: ForkServerContext,
        settings: Settings,
        size: int,
        start: Callable[[BaseProcess], None],
    ) -> None:
        self._ctx = ctx
        self._settings = settings
        self.size = size
        self._start_process = start  # starts a Process, waiting out a forkserver being replaced
        self._waiting: deque[RunProcessStart] = deque()
        self._lock = threading.Lock()  # the scheduler changes the queue; `pids` may be read from anywhere
        self._refill_at: float | None = None

    def start(self, name: str) -> RunProcessStart:
        """Fork a run process now; it waits for its order (BaseProcess.start's errors pass through)."""
        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=serve_one_run, args=(self._settings, reader), name=name)
        try:
            self._start_process(process)
        except BaseException:
            writer.close()
            raise
        finally:
            reader.close()  # the child has its own copy
        return RunProcessStart(process, writer)

    def take(self) -> RunProcessStart | None:
        """A waiting process that is still alive (None when there is none); its replacement comes later."""
        while True:
            with self._lock:
                if not self._waiting:
                    return None
                waiting = self._waiting.popleft()
            self._refill_at = time.monotonic() + REFILL_DELAY_SECONDS
            if waiting.process.is_alive():
                return waiting
            waiting.dismiss(0)  # died while waiting (e.g. its forkserver was killed): reap it

    def seconds_to_refill(self) -> float | None:
        """How long until `refill` has work to do; None when nothing is missing."""
        if len(self._waiting) >= self.size:
            return None
        if self._refill_at is None:
            return 0.0
        return max(0.0, self._refill_at - time.monotonic())

    def refill(self) -> None:
        """Fork waiting processes up to `size`; a failed fork is logged and tried again on the next refill."""
        self._refill_at = None
        while len(self._waiting) < self.size:
            try:
                started = self.start("run-waiting")
            except Exception:
                logger.exception("could not fork a waiting run process")
                self._refill_at = time.monotonic() + REFILL_DELAY_SECONDS
                return
            with self._lock:
                self._waiting.append(started)

    def pids(self) -> list[int]:
        """Process ids of the waiting processes."""
        with self._lock:
            return [w.process.pid for w in self._waiting if w.process.pid is not None]

    def close(self, grace: float) -> None:
        """End every waiting process."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
        for process in waiting:  # all told first, so they exit together
            with contextlib.suppress(OSError):
                process.orders.close()
        for process in waiting:
            process.dismiss(grace)

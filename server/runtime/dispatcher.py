"""SubprocessDispatcher: runs repository runs in worker processes forked from a warm forkserver."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from core.errors import RunErrorKind
from core.models import RepositoryRun
from core.ports import Store
from core.services.progress import RunProgress
from core.services.recovery import resume_run
from core.services.runs import find_run
from core.settings import Settings
from server.runtime.process_group import RunProcessGroup
from server.runtime.run_process import GRACE_SECONDS, RunOrder
from server.runtime.warm_processes import WarmRunProcesses

logger = logging.getLogger(__name__)

# Imported once by the forkserver, so each run process starts with nothing left to import
# (`import anthropic` alone takes seconds; a fork takes milliseconds). Not "__main__": that is the
# CLI, which no run needs. A run process still executes the server's main script at start
# (multiprocessing does so in every child it starts); for `cody-batch` that script imports only
# `server.cli`, kept tiny for this reason, and `pkgutil`, which multiprocessing uses to run it.
PRELOAD = [
    "server.runtime.forkserver_init",
    "server.runtime.dispatcher",
    "server.runtime.run_process",
    "server.runtime.worker_command",
    "server.cli",
    "pkgutil",
    "multiprocessing.popen_forkserver",  # unpickles the order pipe a run process is handed
    "worker.pipeline",
    "store.sqlite",
]
RunKey = tuple[str, int]


@dataclass(frozen=True)
class RunProcess:
    """A started run process and the attempt it owns: its death can fail that attempt only."""

    process: BaseProcess
    group: RunProcessGroup  # signalled through its leader's pidfd: never a process that took its id since
    attempt: int
    resumptions: int  # of that attempt when the process started: resuming it again fences this one out
    run_id: str
    env: dict[str, str]  # the environment it was dispatched with: a resumed run starts with it again


# How long to wait, in turn, for a forkserver that just died to be replaced.
FORKSERVER_RESTART_WAITS = (0.05, 0.2, 0.5, 1.0, 2.0)


def _start_from_forkserver(process: BaseProcess) -> None:
    """Start `process`, waiting out a forkserver that has just died.

    A killed forkserver closes its socket before the kernel makes it a zombie; in that window
    multiprocessing still takes it for alive (its `waitpid` sees nothing yet) and the connect is
    refused. Once it is a zombie, the next start reaps it and launches a new forkserver.
    """
    for delay in FORKSERVER_RESTART_WAITS:
        try:
            process.start()
            return
        except (ConnectionRefusedError, FileNotFoundError):
            logger.warning("the forkserver refused a run; waiting %.2f s for it to be replaced", delay)
            time.sleep(delay)
    process.start()


def _noop() -> None:
    return None


def exit_description(exitcode: int | None) -> str:
    """How a worker process ended, in words."""
    if exitcode is not None and exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


class SubprocessDispatcher:
    """Bounded pool of run processes; runs beyond `settings.workers` wait in a queue.

    At most one process per run at a time: a run dispatched again while its previous process
    is still exiting (a retry right after a cancel) waits in the queue until that process is
    reaped. A process owns the attempt that was current when it started; see RunProgress.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store_factory: Callable[[], Store] | None = None,
        grace_seconds: float = GRACE_SECONDS,
    ) -> None:
        self.settings = settings
        self.limit = settings.workers
        self.grace_seconds = grace_seconds
        self._store_factory = store_factory or self._sqlite_store
        self._store: Store | None = None
        self._ctx = multiprocessing.get_context("forkserver")
        self._queue: deque[tuple[RunKey, dict[str, str]]] = deque()
        self._running: dict[RunKey, RunProcess] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False
        # One waiting process per repository a job can have, so a new job's runs start at once.
        pool = min(settings.workers, settings.max_repositories)
        self._warm = WarmRunProcesses(self._ctx, settings, pool, _start_from_forkserver)
        self.started = 0  # runs started in a process, for tests and benchmarks
        self.ready = threading.Event()  # set once the forkserver has imported the worker

    def _sqlite_store(self) -> Store:
        from store.sqlite import SqliteStore

        return SqliteStore(self.settings.database_path)

    # -- the Dispatcher port (called from resolvers: quick, never blocking) -----------------------

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        """Queue runs; the scheduler thread starts them as slots free up."""
        env = dict(os.environ)
        with self._lock:
            if self._closed:
                raise RuntimeError("the dispatcher is closed")
            queued = {key for key, _ in self._queue}
            for index in indexes:
                key = (job_id, index)
                # Queued even while a process still runs it: the store decides at start-up whether
                # there is anything left to do (a new attempt), not this guess.
                if key not in queued:
                    self._queue.append((key, env))
            self._ensure_thread()
        self._wake()

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None:
        """Drop queued runs and signal running ones (SIGTERM, then SIGKILL after a grace period)."""
        wanted = {(job_id, i) for i in indexes}
        with self._lock:
            self._queue = deque(item for item in self._queue if item[0] not in wanted)
            groups = [r.group for key, r in self._running.items() if key in wanted]
        for group in groups:
            group.terminate(self.grace_seconds)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler and return once the forkserver has loaded the worker (or failed to).

        `serve` calls this before it listens, so it answers only when a job's runs can start at
        once: otherwise the first job waits for the warm-up (seconds: `import anthropic` alone).
        """
        with self._lock:
            if self._closed:
                return
            self._ensure_thread()
            thread = self._thread
        while thread is not None and thread.is_alive() and not self.ready.wait(timeout=0.5):
            pass

    def warm_up(self) -> None:
        """Start the forkserver and wait until it has imported the worker, so the first run starts fast."""
        self._ctx.set_forkserver_preload(PRELOAD)
        # The forkserver imports its preload list after it starts; its first fork waits for that.
        probe = self._ctx.Process(target=_noop, name="forkserver-warm-up")
        probe.start()
        probe.join()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def process_ids(self, job_id: str) -> dict[int, int]:
        """Index -> pid (also the process group id) of the job's running run processes."""
        with self._lock:
            pids = {i: r.process.pid for (j, i), r in self._running.items() if j == job_id}
            return {i: pid for i, pid in pids.items() if pid is not None}

    def waiting_process_ids(self) -> list[int]:
        """Pids of the run processes forked ahead, waiting for a run."""
        return self._warm.pids()

    def close(self) -> None:
        """Stop: running runs get SIGTERM and unwind; they and the queued ones stay unfinished, as
        stored (thread and checkpoint of their last finished turn kept), for the next start to resume."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join(timeout=self.grace_seconds + 10)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._schedule, name="run-dispatcher", daemon=True)
            self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # -- the scheduler thread -------------------------------------------------------------------

    def _schedule(self) -> None:
        try:
            self._loop()
        except Exception:
            logger.exception("the run dispatcher stopped")
            with self._lock:
                self._closed = True
            # The server runs on without a scheduler: nothing would ever start these.
            self._fail_queued()

    def _loop(self) -> None:
        self.warm_up()
        self._warm.refill()
        self.ready.set()
        self._store_now()
        stopping = False
        while True:
            for key, env in self._take():
                self._start(key, env)
            with self._lock:
                if self._closed and not stopping:
                    stopping = True
                    for run in self._running.values():
                        # SIGKILL follows even if the leader is gone by then: commands it started may linger.
                        run.group.terminate(self.grace_seconds)
                running = bool(self._running)
                sentinels = {r.process.sentinel: key for key, r in self._running.items()}
            if stopping:
                self._warm.close(self.grace_seconds)
                if not running:
                    break
            refill = None if stopping else self._warm.seconds_to_refill()
            ready = wait([self._wake_r, *sentinels], timeout=refill)
            if not ready and refill is not None:
                self._warm.refill()
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            for sentinel in ready:
                if sentinel in sentinels:
                    self._reap(sentinels[sentinel])

    def _take(self) -> list[tuple[RunKey, dict[str, str]]]:
        """Queued runs to start now, in order; a run whose previous process is still exiting waits."""
        with self._lock:
            taken: list[tuple[RunKey, dict[str, str]]] = []
            waiting: deque[tuple[RunKey, dict[str, str]]] = deque()
            while not self._closed and self._queue and len(self._running) + len(taken) < self.limit:
                item = self._queue.popleft()
                busy = item[0] in self._running or any(item[0] == key for key, _ in taken)
                (waiting if busy else taken).append(item)
            self._queue = waiting + self._queue
            return taken

    def _start(self, key: RunKey, env: dict[str, str]) -> None:
        job_id, index = key
        try:
            run = self._find_run(key)
        except Exception as err:  # the store is unreadable: say so on the run if it can be written
            logger.exception("could not read run %s/%s before starting it", job_id, index)
            self._fail_run(key, RunErrorKind.WORKER_START_FAILED, f"the run could not be read before it started: {err}")
            return
        if run is None or run.status.finished:
            return  # cancelled while it waited, or already run by an earlier process
        order = RunOrder(job_id, index, run.attempt, len(run.resumptions), env)
        try:
            process, group = self._hand_over(order)
        except Exception as err:  # e.g. out of processes: the run must not stay pending forever
            logger.exception("could not start the worker for %s/%s", job_id, index)
            self._fail_run(
                key, RunErrorKind.WORKER_START_FAILED, f"the worker process could not start: {err}", run.attempt
            )
            return
        with self._lock:
            self._running[key] = RunProcess(process, group, run.attempt, len(run.resumptions), run.id, env)
            self.started += 1

    def _hand_over(self, order: RunOrder) -> tuple[BaseProcess, RunProcessGroup]:
        """Send `order` to a waiting run process, or to one forked now when none is waiting."""
        waiting = self._warm.take()
        if waiting is not None:
            try:
                return waiting.process, waiting.send(order)
            except OSError:  # it died since it was checked: reap it and fork another
                waiting.dismiss(0)
        started = self._warm.start(f"run-{order.job_id}-{order.index}")
        return started.process, started.send(order)

    def _reap(self, key: RunKey) -> None:
        with self._lock:
            run = self._running.pop(key)
        run.process.join()
        run.group.release()
        if self._closed:
            # A graceful stop leaves the run as a kill -9 of the server would: the next start finds it
            # unfinished and resumes it from its last finished turn (or fails it INTERRUPTED once its
            # resumptions are used up), so stopping the server is never worse than crashing it.
            logger.info("run %s/%s stopped with the server; the next start resumes it", *key)
            return
        how = f"the worker process {exit_description(run.process.exitcode)}"
        if self._resumed(run, how):
            with self._lock:
                self._queue.append((key, run.env))  # the scheduler loop starts it again on its next pass
            return
        message = f"{how} before finishing the run"
        self._fail_run(key, RunErrorKind.WORKER_DIED, message, run.attempt, run.resumptions)

    def _resumed(self, run: RunProcess, cause: str) -> bool:
        """Whether a run whose worker died was put back to go on from its thread and checkpoint."""

        def stopped(stored: RepositoryRun) -> bool:
            # Left unfinished by this process, not by a newer one: a run continued (or resumed) since
            # this process started has another process coming, whose work this end must not touch.
            return not stored.status.finished and len(stored.resumptions) == run.resumptions

        try:
            return resume_run(self._store_now(), run.run_id, run.attempt, self.settings.max_resumes, cause, stopped)
        except Exception:
            logger.exception("could not resume run %s", run.run_id)
            return False

    def _fail_queued(self) -> None:
        with self._lock:
            queued, self._queue = list(self._queue), deque()
        for key, _ in queued:
            self._fail_run(key, RunErrorKind.INTERRUPTED, "the server stopped before the run started")

    def _store_now(self) -> Store:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    def _find_run(self, key: RunKey) -> RepositoryRun | None:
        return find_run(self._store_now(), *key)

    def _fail_run(
        self, key: RunKey, kind: RunErrorKind, message: str, attempt: int | None = None, resumptions: int | None = None
    ) -> None:
        """Fail `attempt` of the run (default: the current one), as resumed `resumptions` times (default: as
        now), unless it already finished, as it does whenever the worker ran to its end, or has moved on."""
        try:
            run = self._find_run(key)
            if run is not None:
                RunProgress(self._store_now(), run.id, attempt, resumptions).fail(kind, message)
        except Exception:
            logger.exception("could not record the end of run %s/%s", *key)

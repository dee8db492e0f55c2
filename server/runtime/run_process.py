"""A run process, from the inside: set up once it is forked, then wait for the one run it is to work.

The dispatcher forks run processes ahead of time (see server.runtime.warm_processes), so the
fork and this set-up happen before a job is created, not between `createJob` and the run's
first model call; each process then takes one run order over a pipe and works it to its end.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import signal
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import Connection

from setproctitle import setproctitle

from core.settings import Settings
from server.runtime.hardening import die_with_parent
from server.runtime.signal_relay import relayed_to_main_thread
from server.runtime.worker_command import run_worker

logger = logging.getLogger(__name__)

GRACE_SECONDS = 5.0
RUN_NICENESS = 10  # a run process's nice value above the server's
# Without a title every run process shows the forkserver's command line, so none could be told apart.
WAITING_TITLE = "cody-batch run (waiting for a run)"

# The forkserver's pid, noted by the forkserver as it starts (`note_forkserver`); run processes,
# forked from it, inherit it.
_forkserver_pid: int | None = None


@dataclass(frozen=True)
class RunOrder:
    """The run a waiting process is to work: which attempt, and the server's environment as of dispatch."""

    job_id: str
    index: int
    attempt: int
    resumptions: int  # of that attempt at dispatch: resuming it again fences this process out
    env: dict[str, str]


def run_title(order: RunOrder) -> str:
    """What `ps` shows for a process working `order`: the job, repository index and attempt, as the CLI names them."""
    return f"cody-batch run {order.job_id} {order.index} (attempt {order.attempt})"


def note_forkserver() -> None:
    """Note this process as the forkserver run processes are forked from: each is to die with it."""
    global _forkserver_pid  # set once, in the forkserver, before it forks
    _forkserver_pid = os.getpid()


def serve_one_run(settings: Settings, orders: Connection) -> None:
    """Entry point of a run process: set up, wait for its run order, run it; exit quietly if none comes."""
    _become_run_process()
    setproctitle(WAITING_TITLE)
    try:
        order: RunOrder = orders.recv()
    except EOFError:
        return  # the dispatcher closed without needing this process
    finally:
        orders.close()
    # The forkserver's environment is that of its first use; a run gets the server's as of dispatch.
    os.environ.clear()
    os.environ.update(order.env)
    setproctitle(run_title(order))
    with relayed_to_main_thread(signal.SIGTERM):  # the run's helper threads may take it
        run_worker(settings, order.job_id, order.index, order.attempt, order.resumptions)


def _become_run_process() -> None:
    """What every run process does first: its own process group (so cancel can signal it), its
    priority, its death tied to the server's, and SIGTERM unwinding the run."""
    # What the forkserver loaded (~170,000 objects) stays alive for the run's whole life: out of
    # the collector's sight, a full collection takes about a millisecond instead of a few hundred
    # and leaves those pages shared with the forkserver instead of copying them.
    gc.freeze()
    # A process group, not a session: a new session is also a scheduling autogroup (Linux),
    # which the scheduler weighs against the server's as a whole, so a nice value would not rank
    # the run below the server, and an autogroup's nice value would rank it below the whole
    # machine. In the server's autogroup, runs yield the CPU to the server
    # only, so the API and live updates stay quick, and the group keeps its share of the machine.
    os.setpgid(0, 0)
    os.nice(RUN_NICENESS)
    # The parent is the forkserver, which exits once the server is gone, even after SIGKILL: the
    # run then gets SIGTERM and unwinds instead of working on for nobody. On its own, the
    # forkserver waits for every copy of its "alive" pipe, ours included; killed, it may be gone
    # already, and then no signal will come: this process has nothing to work for either.
    signal.signal(signal.SIGTERM, _unwind)
    die_with_parent(signal.SIGTERM)
    if _forkserver_pid is not None and os.getppid() != _forkserver_pid:
        raise SystemExit("the forkserver died before this run process was tied to it")
    _close_forkserver_alive_pipe()


def _close_forkserver_alive_pipe() -> None:
    """Drop this process's copy of the write end of the forkserver's "alive" pipe.

    multiprocessing hands it to every process the forkserver forks, and the forkserver exits
    only when all copies are closed; with runs holding it, a server killed outright left the
    forkserver, and so every run (their death signal is tied to it), working on. No public API
    reaches the descriptor, hence the private attribute; the kill test fails if it ever moves.
    """
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is None or fd is None:
        logger.warning("no forkserver alive pipe to close: this run may outlive a killed server")
        return
    os.close(fd)
    server._forkserver_alive_fd = None


def _unwind(signum: int, frame: object) -> None:
    """SIGTERM: unwind the stack (so the workspace is removed; the store already says why), and
    exit for sure after a grace period, which the server cannot enforce once it is gone."""
    # Once is enough: a repeat (a relayed copy, the dispatcher's cancel) must not cut the unwinding
    # short. A Python function, not SIG_IGN, which the commands started meanwhile would inherit.
    signal.signal(signal.SIGTERM, _unwinding)
    signal.alarm(math.ceil(GRACE_SECONDS))  # SIGALRM's default action ends the process
    raise SystemExit(128 + signum)


def _unwinding(signum: int, frame: object) -> None:
    """SIGTERM again, while the run unwinds: nothing more to do."""

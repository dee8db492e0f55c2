"""Process hardening: keep secrets out of reach of the commands runs start; no orphaned workers."""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import functools
import logging
import os
import sys
import termios

logger = logging.getLogger("cody_batch.hardening")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


@functools.cache
def _libc() -> ctypes.CDLL | None:
    # Cached: find_library runs `ldconfig -p` in a subprocess on each call, and a run process would
    # pay that twice at start; the forkserver loads it once (forkserver_init) and runs inherit it.
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def make_undumpable() -> bool:
    """Mark this process non-dumpable, so same-user processes (a repository's commands, where
    no PID namespace hides us) cannot read its /proc environ or memory, nor ptrace it.
    Returns whether it took effect; a no-op where the OS has no prctl."""
    libc = _libc()
    if libc is None:
        return False
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        logger.warning("could not mark the process non-dumpable (errno %s)", ctypes.get_errno())
        return False
    return True


def is_dumpable() -> bool:
    """Whether this process is dumpable (True where prctl is unavailable)."""
    libc = _libc()
    return True if libc is None else bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))


def die_with_parent(signum: int) -> bool:
    """Have the kernel send `signum` to this process when its parent dies (Linux), so a run
    process does not outlive a server that was killed outright. Returns whether it took effect."""
    libc = _libc()
    return libc is not None and libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0


def detach_terminal() -> bool:
    """Give up the controlling terminal this process inherited (a server started from a shell), so
    the commands a run starts have none: through it a command could type into the user's shell
    (TIOCSTI) or read and write the screen, from any sandbox. The session stays, and with it the
    run's scheduling autogroup (why commands get no session of their own). Returns whether there
    was a terminal to give up; a session leader keeps its own, as giving it up would hang up the
    terminal's foreground jobs."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal
    try:
        if os.getsid(0) == os.getpid():
            logger.warning("a session leader keeps its terminal: commands it starts can reach it")
            return False
        fcntl.ioctl(fd, termios.TIOCNOTTY)
    except OSError as err:
        logger.warning("could not give up the controlling terminal: %s", err)
        return False
    finally:
        os.close(fd)
    return True

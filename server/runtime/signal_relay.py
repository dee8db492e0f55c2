"""A signal for the process, brought to its main thread whichever thread the kernel gave it to.

CPython runs a signal's Python handler in the main thread only, once that thread is back in the
interpreter. The kernel gives a signal sent to a process (`kill`, a parent's death signal) to any
of its threads that does not block it; when a helper thread takes it (a run's clone thread, busy
starting git), the main thread is not interrupted: it waits on in its system call (a run's model
request, for minutes) and the handler waits with it. Blocking the signal in the helper threads
is no way out: the git and check processes they start would inherit the blocked signal.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def relayed_to_main_thread(signum: int) -> Iterator[None]:
    """Within the block, the first `signum` the process gets interrupts its main thread: it is sent on to
    that thread, which may so get it twice (the handler must take a repeat). Enter in the main thread,
    before the threads that might take the signal start."""
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    # CPython writes the number of every signal it catches here, from whichever thread caught it.
    previous = signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
    main = threading.get_ident()

    def relay() -> None:
        # Once only: the main thread's own catch of the relayed signal is written here too, and
        # relaying that again would never end.
        while caught := os.read(reader, 64):
            if signum in caught:
                signal.pthread_kill(main, signum)
                return

    relaying = threading.Thread(target=relay, name="signal-relay", daemon=True)
    relaying.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(writer)  # the relay reads the end of the pipe and stops, if it is still waiting
        relaying.join()
        os.close(reader)

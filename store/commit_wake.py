"""Waking the server's change feed when any process commits to the same SQLite file.

A writer (the server, a run process, the CLI) sends one datagram to an address derived from
the database's path after each commit that added events; the server's event tail listens
there and reads the feed at once instead of at its next poll. A lost poke costs only latency:
the tail still polls `PRAGMA data_version`, so nothing depends on the poke arriving.

Linux abstract socket names are used: nothing is left on disk and any path length works. Any
process of the machine's network namespace may send to the address or take it first; the
first only wakes the tail for a cheap feed read, the second leaves the server polling.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys

_POKE = b"!"


def wake_address(db_path: str) -> str | None:
    """The address the feed of the database at `db_path` listens on; None where unsupported."""
    if not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(os.path.realpath(db_path).encode()).hexdigest()[:32]
    return f"\0cody-batch-feed-{digest}"


def _datagram_socket() -> socket.socket:
    return socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)


class CommitPoke:
    """The writer's side: one datagram after a commit, never blocking and never failing the commit."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._pid = 0

    def poke(self) -> None:
        """Tell the listener (if any) that the feed grew."""
        if self.address is None:
            return
        try:
            # One socket per process: a forked child must not share its parent's.
            if self._socket is None or self._pid != os.getpid():
                self._socket, self._pid = _datagram_socket(), os.getpid()
            self._socket.sendto(_POKE, self.address)
        except OSError:
            # Nobody listening, or its queue is full of pokes it has not read yet: either way the
            # listener's next read (or poll) finds this commit.
            pass

    def close(self) -> None:
        """Release the socket."""
        if self._socket is not None and self._pid == os.getpid():
            self._socket.close()
        self._socket = None


class CommitWakeListener:
    """The feed's side: a non-blocking socket to watch for readability, drained after each wake."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock

    @classmethod
    def bind(cls, address: str | None) -> CommitWakeListener | None:
        """Listen at `address`; None where unsupported or the address is taken (then the feed polls)."""
        if address is None:
            return None
        sock = _datagram_socket()
        try:
            sock.bind(address)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def fileno(self) -> int:
        """The descriptor that becomes readable on a poke."""
        return self._socket.fileno()

    def drain(self) -> int:
        """Read every poke waiting; how many there were."""
        count = 0
        while True:
            try:
                self._socket.recv(16)
            except (BlockingIOError, InterruptedError):
                return count
            count += 1

    def close(self) -> None:
        """Stop listening (the address is free again)."""
        self._socket.close()

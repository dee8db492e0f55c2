"""DataDirLock: one server per data dir, held for the server's whole life."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from core.errors import DataDirInUse

LOCK_NAME = "server.lock"


class DataDirLock:
    """An exclusive `flock` on `<data dir>/server.lock`, which also records the holder's pid.

    The kernel drops the lock when its holder ends, however it ends (kill -9 included), so a
    left-over file never blocks a restart; the pid in it only makes the refusal say who holds it.
    The descriptor is close-on-exec, and run processes are forked from a forkserver that was
    started by exec, so only the server itself holds the lock.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> DataDirLock:
        """Take the lock, or raise DataDirInUse (naming the holder's pid when known); self."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            by = f"another Cody Batch server (pid {holder})" if holder else "another Cody Batch server"
            raise DataDirInUse(
                f"the data dir {self.data_dir} is in use by {by}; stop that server first, "
                "or give this one another CODY_BATCH_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race with the next holder)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None

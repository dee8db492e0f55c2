"""Process trees as /proc shows them: who descends from whom, and who is still alive."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first); None once the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[-1].split()


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has finished: only its exit status is left)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def parent(pid: int) -> int:
    """The parent pid of a running `pid`."""
    fields = _stat(pid)
    assert fields is not None, f"process {pid} is gone"
    return int(fields[1])


def descendants(root: int) -> set[int]:
    """Every live process below `root`, however deep."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and alive(child):
                found.add(child)
                todo.append(child)
    return found


def kill_all(pids: set[int]) -> None:
    """SIGKILL what is left of `pids`, so a failing test leaves no orphan behind."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

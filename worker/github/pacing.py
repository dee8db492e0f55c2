"""One pace per GitHub token, shared by every run: content-creating requests a second apart, one backoff window.

GitHub asks integrations to send content-creating requests one at a time, at least a second
apart, and, after a secondary rate limit, to wait before sending anything. Retrying per request and per
process is not enough: five runs each waiting out their own retry still hit GitHub together.
So every run asks a shared `Pacer` (core.ports) before it talks to GitHub, and records any
window GitHub asks for there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import RunErrorKind
from core.ports import Pacer, PaceWait
from worker.github.errors import PublishError

log = logging.getLogger(__name__)

# Longest a content-creating request keeps the turn: one that dies mid-request delays the others this long
# (with the FilePacer, only until its process is seen gone).
WRITE_HOLD_SECONDS = 60.0
TURN_POLL_SECONDS = 0.1


class FilePacer:
    """A Pacer over one small file per key in a directory, under an exclusive lock (all processes of a machine)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def _state(self, key: str) -> Iterator[dict[str, float]]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{key}.json", os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            try:
                state: dict[str, Any] = json.loads(handle.read() or "{}")
            except ValueError:
                state = {}
            before = dict(state)
            yield state
            if state != before:
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(state))

    def reserve(self, key: str, hold: float) -> PaceWait:
        """Ask to send a request under `key` (taking the turn for `hold` seconds when ready and `hold` > 0)."""
        with self._state(key) as state:
            now = time.time()
            writer = state.get("writer")
            if writer is not None and not _alive(int(writer)):
                # Its process died holding the turn (killed mid-request): on one machine that is known at once,
                # so the others need not wait out the hold.
                state["next_write"] = now
                del state["writer"]
            wait = PaceWait(
                backoff=state.get("blocked_until", 0.0) - now,
                turn=state.get("next_write", 0.0) - now if hold > 0 else 0.0,
            )
            if wait.ready and hold > 0:
                state["next_write"], state["writer"] = now + hold, os.getpid()
            return wait

    def release(self, key: str, spacing: float) -> None:
        """The next content-creating request goes `spacing` seconds from now."""
        with self._state(key) as state:
            state["next_write"] = time.time() + spacing
            state.pop("writer", None)

    def block(self, key: str, until: float) -> None:
        """No request under `key` before `until`."""
        with self._state(key) as state:
            state["blocked_until"] = max(state.get("blocked_until", 0.0), until)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def pace_key(token: str | None) -> str:
    """The pacer key of a token: a digest, so the token itself is never stored."""
    return "github-" + (hashlib.sha256(token.encode()).hexdigest()[:24] if token else "anonymous")


class GitHubPace:
    """A run's handle on its token's pace: wait before requests, share any window GitHub asks for."""

    def __init__(self, pacer: Pacer, token: str | None, *, write_interval: float, max_wait: float) -> None:
        self.pacer = pacer
        self.key = pace_key(token)
        self.write_interval = write_interval
        self.max_wait = max_wait

    def before_read(self) -> None:
        """Wait out any backoff window of the token."""
        self._wait(0.0)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around a content-creating request: its turn after the window and the previous one, then the spacing."""
        self._wait(WRITE_HOLD_SECONDS)
        try:
            yield
        finally:
            self.pacer.release(self.key, self.write_interval)

    def limited(self, seconds: float) -> None:
        """GitHub asked to back off for `seconds`: every run using the token does."""
        log.info("GitHub asked to back off %.1f s; every run using this token waits", seconds)
        self.pacer.block(self.key, time.time() + seconds)

    def _wait(self, hold: float) -> None:
        while not (wait := self.pacer.reserve(self.key, hold)).ready:
            if wait.backoff > self.max_wait:
                raise PublishError(
                    RunErrorKind.RATE_LIMITED,
                    f"GitHub asked every run using this token to wait {wait.backoff:.0f} s, longer than "
                    f"CODY_BATCH_GITHUB_MAX_WAIT ({self.max_wait:g} s); retry later",
                )
            # A window ends when GitHub said; another run's turn ends when it releases it, so look again soon.
            time.sleep(wait.backoff if wait.backoff > 0 else min(wait.turn, TURN_POLL_SECONDS))

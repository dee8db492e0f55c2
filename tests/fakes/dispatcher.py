"""RecordingDispatcher: a real Dispatcher that starts nothing and remembers what it was asked."""

from __future__ import annotations

from collections.abc import Sequence


class RecordingDispatcher:
    """Records dispatch and cancel calls; tests then run (or not) the workers themselves."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[str, list[int]]] = []
        self.cancelled: list[tuple[str, list[int]]] = []

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        self.dispatched.append((job_id, list(indexes)))

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None:
        self.cancelled.append((job_id, list(indexes)))

    def start(self) -> None:
        """Nothing to start: tests run the workers themselves."""

    def close(self) -> None:
        """Nothing to stop."""

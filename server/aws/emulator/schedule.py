"""An EventBridge schedule rule: its target function invoked every `interval` seconds with a Scheduled Event."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from server.aws.emulator.gateway import LambdaFunction

logger = logging.getLogger("cody_batch.emulator.schedule")


def scheduled_event(rule: str) -> dict[str, Any]:
    """The event EventBridge sends a rule's target on schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }


class ScheduleRule:
    """Invokes `target` every `interval` seconds (the first after one interval) on a thread, until stopped."""

    def __init__(self, name: str, target: LambdaFunction, interval: float) -> None:
        self.name = name
        self.target = target
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.target.invoke(scheduled_event(self.name))
            except Exception:  # as on AWS, a failed invocation waits for the next one
                logger.exception("the scheduled invocation of %s failed", self.target.name)

"""EventBridge for Batch, on this machine: a local child's non-zero exit as AWS's "Batch Job State Change"
event, and a rule that matches events against its pattern and invokes its target function.

moto's Batch runs nothing here, so it never changes a job's state; the local child's exit is what
AWS Batch would report. Every non-zero exit is a FAILED job: the job definition's retry rules retry
only a lost host or Spot task, which a local process never is.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, cast

from server.aws.batch_failures import DETAIL_TYPE, FAILED, SOURCE
from server.aws.emulator.gateway import LambdaFunction

logger = logging.getLogger("cody_batch.emulator.events")

EXITED = "Essential container in task exited"
"""Batch's statusReason for a container that ended on its own or was killed (AWS's words)."""


def _exit_code(returncode: int) -> int:
    """A process's return code as a container's exit code: a signal N is 128 + N (SIGKILL: 137)."""
    return 128 - returncode if returncode < 0 else returncode


def _reason(returncode: int) -> str | None:
    if returncode >= 0:
        return None
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def _account(job: Mapping[str, Any]) -> str:
    """The account of the job's ARN (arn:aws:batch:REGION:ACCOUNT:job/ID)."""
    parts = str(job.get("jobArn", "")).split(":")
    return parts[4] if len(parts) > 4 and parts[4] else "123456789012"


def failed_child_event(job: Mapping[str, Any], returncode: int, region: str = "us-east-1") -> dict[str, Any]:
    """The event AWS Batch sends when the described job (a child of an array job, or a plain job) ends FAILED
    with its container's `returncode` (negative: killed by that signal)."""
    now = int(time.time() * 1000)
    container = {**(job.get("container") or {}), "exitCode": _exit_code(returncode)}
    if (reason := _reason(returncode)) is not None:
        container["reason"] = reason
    attempt = {
        "container": {k: container[k] for k in ("exitCode", "reason", "logStreamName") if k in container},
        "startedAt": job.get("startedAt", now),
        "stoppedAt": now,
        "statusReason": EXITED,
    }
    detail = {**job, "status": FAILED, "statusReason": EXITED, "container": container, "attempts": [attempt]}
    detail["stoppedAt"] = now
    job_id = str(job["jobId"])
    if ":" in job_id:  # AWS describes an array child with its index
        detail["arrayProperties"] = {"index": int(job_id.rsplit(":", 1)[1])}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": _account(job),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [job["jobArn"]] if job.get("jobArn") else [],
        "detail": detail,
    }


class EventRule:
    """An EventBridge rule: an event matching `pattern` invokes `target` asynchronously, as EventBridge does."""

    def __init__(self, name: str, pattern: Mapping[str, Any], target: LambdaFunction) -> None:
        # moto's EventBridge matcher: the pattern language is EventBridge's, and moto already implements it.
        from moto.events.models import EventPattern

        self.name = name
        self.pattern = EventPattern.load(json.dumps(pattern))
        self.target = target
        self._deliveries: list[threading.Thread] = []

    def put(self, event: Mapping[str, Any]) -> bool:
        """Deliver `event` if it matches (on a thread of its own); whether it matched."""
        if not self.pattern.matches_event(cast(Any, dict(event))):  # moto types it as its own TypedDict
            return False
        delivery = threading.Thread(target=self._invoke, args=(dict(event),), name=f"rule-{self.name}", daemon=True)
        self._deliveries.append(delivery)
        delivery.start()
        return True

    def drain(self, timeout: float = 60) -> None:
        """Wait for the deliveries under way (the emulator's stop, and tests)."""
        for delivery in self._deliveries:
            delivery.join(timeout)
        self._deliveries = [d for d in self._deliveries if d.is_alive()]

    def _invoke(self, event: dict[str, Any]) -> None:
        try:
            self.target.invoke(event)
        except Exception:  # as on AWS: a failed asynchronous invocation is logged, not raised to the sender
            logger.exception("rule %s: invoking %s failed", self.name, self.target.name)

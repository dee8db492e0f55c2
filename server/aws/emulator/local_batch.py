"""AWS Batch's compute, on this machine: each submitted child runs as a local process.

moto records submitted jobs but runs nothing (its Batch is configured without Docker), so
this watches the queue, and for each new job starts what the container would run — its
command and environment as Batch resolves them, its definition's `secrets` read from Secrets
Manager as ECS does, with `AWS_BATCH_JOB_ARRAY_INDEX` for the children of an array job — at
most `slots` at a time.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.aws.emulator.batch_events import failed_child_event
from server.aws.emulator.container_secrets import ContainerSecretError, container_secrets

logger = logging.getLogger("cody_batch.emulator.batch")

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Child:
    """One container to run: a plain job, or one child of an array job."""

    batch_job_id: str
    command: list[str]
    environment: dict[str, str]


def children(job: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> list[Child]:
    """The containers Batch would start for a described job (`secrets`: its definition's, resolved)."""
    container = job.get("container") or {}
    command = [str(part) for part in container.get("command") or []]
    environment = {e["name"]: e["value"] for e in container.get("environment") or []} | dict(secrets or {})
    size = int((job.get("arrayProperties") or {}).get("size") or 0)
    if size == 0:
        return [Child(job["jobId"], command, {**environment, "AWS_BATCH_JOB_ID": job["jobId"]})]
    return [
        Child(
            f"{job['jobId']}:{index}",
            command,
            {**environment, "AWS_BATCH_JOB_ID": f"{job['jobId']}:{index}", "AWS_BATCH_JOB_ARRAY_INDEX": str(index)},
        )
        for index in range(size)
    ]


def local_command(command: list[str]) -> list[str]:
    """The container's command on this machine: the image's `cody-batch` is the one beside this Python."""
    if command and command[0] == "cody-batch":
        beside = Path(sys.executable).with_name("cody-batch")
        program = str(beside) if beside.exists() else shutil.which("cody-batch") or "cody-batch"
        return [program, *command[1:]]
    return command


class LocalBatch:
    """Polls a job queue and runs every new job's children as local processes."""

    def __init__(
        self,
        batch: Any,
        job_queue: str,
        slots: int,
        base_environment: Mapping[str, str],
        secretsmanager: Any,
        events: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        self.batch = batch
        self.secretsmanager = secretsmanager
        """Where the definitions' `secrets` are read, as ECS reads them when it starts a task."""
        self.job_queue = job_queue
        self.slots = slots
        self.base_environment = dict(base_environment)
        self.seen: set[str] = set()
        self.waiting: deque[Child] = deque()
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.finished: dict[str, int] = {}
        """Exit code of every child that ended, by Batch job id."""
        self.events = events
        """Where a child's FAILED state change goes (EventBridge); None: nowhere."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-batch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and send SIGTERM to running children (as Batch does on terminate), then wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("watching the Batch queue failed; trying again")
            self._stop.wait(POLL_SECONDS)

    def skip_jobs_so_far(self) -> None:
        """Never run the jobs the queue holds now (an endpoint's earlier jobs, which Batch ran already)."""
        self.seen.update(s["jobId"] for s in self._summaries())

    def poll_once(self) -> None:
        """Pick up new jobs, reap ended children, start waiting ones while slots are free."""
        new = [s["jobId"] for s in self._summaries() if ":" not in s["jobId"] and s["jobId"] not in self.seen]
        if new:
            for job in self.batch.describe_jobs(jobs=new)["jobs"]:
                self.seen.add(job["jobId"])
                try:
                    secrets = self._secrets(job["jobDefinition"])
                except ContainerSecretError as err:
                    # As ECS: a task whose secrets cannot be resolved never starts.
                    logger.error("Batch job %s not started: %s", job["jobId"], err)
                    continue
                self.waiting.extend(children(job, secrets))
        for batch_job_id, process in list(self.running.items()):
            code = process.poll()
            if code is not None:
                del self.running[batch_job_id]
                self.finished[batch_job_id] = code
                if code != 0:
                    self._failed(batch_job_id, code)
        while self.waiting and len(self.running) < self.slots:
            self._launch(self.waiting.popleft())

    def _secrets(self, definition: str) -> dict[str, str]:
        """The definition's `secrets`, read when the job is picked up (ECS reads them as each task starts)."""
        (found,) = self.batch.describe_job_definitions(jobDefinitions=[definition])["jobDefinitions"]
        return container_secrets(found.get("containerProperties", {}).get("secrets") or [], self.secretsmanager)

    def _failed(self, batch_job_id: str, returncode: int) -> None:
        """Report a child that ended non-zero as AWS Batch does: a FAILED "Batch Job State Change" event."""
        if self.events is None:
            return
        (job,) = self.batch.describe_jobs(jobs=[batch_job_id])["jobs"]
        logger.info("Batch child %s failed (return code %s)", batch_job_id, returncode)
        self.events(failed_child_event(job, returncode))

    def _summaries(self) -> list[dict[str, Any]]:
        # Without a status filter moto lists every job of the queue, whatever its state.
        summaries: list[dict[str, Any]] = []
        request: dict[str, Any] = {"jobQueue": self.job_queue}
        while True:
            answer = self.batch.list_jobs(**request)
            summaries += answer.get("jobSummaryList", [])
            if not answer.get("nextToken"):
                return summaries
            request["nextToken"] = answer["nextToken"]

    def _launch(self, child: Child) -> None:
        environment = {**self.base_environment, **child.environment}
        command = local_command(child.command)
        logger.info("Batch child %s: %s", child.batch_job_id, " ".join(command))
        self.running[child.batch_job_id] = subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL)

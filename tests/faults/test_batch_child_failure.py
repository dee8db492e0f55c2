"""A Batch child killed outside Batch's retry rules (SIGKILL in its second turn: as out of memory, or a
timeout's SIGKILL), which Batch never starts again: the emulator's Batch reports it FAILED through the
stack's EventBridge rule to the Batch failures function, which resumes the run on a new Batch job (or,
past its resumptions, fails it). On moto server (DynamoDB, S3, Batch), every child a real process."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.errors import RunErrorKind
from core.models import ResumeReason, RunStatus
from core.services.jobs import JobRequest, create_job
from core.services.progress import load_thread
from core.settings import Settings
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.batch_failures import BatchFailures, failed_jobs_pattern
from server.aws.emulator.batch_events import EventRule, failed_child_event
from server.aws.emulator.gateway import LambdaFunction
from server.aws.emulator.local_batch import Child, LocalBatch
from server.aws.emulator.moto_endpoint import MotoEndpoint
from server.aws.provision import provision
from store.dynamodb import DynamoStore
from tests.fakes.anthropic_server import FakeAnthropic, tool_results
from tests.fakes.held_turn import PATIENCE, SecondTurnHeld
from tests.fakes.stubbed_batch import refuse_submissions
from tests.faults.test_batch_child_resume import AWS, BUCKET, TABLE, _child_environment, _client, endpoint
from tests.integration.worker.conftest import applies_to_fresh_clone, wait_for

__all__ = ["endpoint"]  # the moto server fixture, lent to this module


class EmulatedBatch:
    """The emulator's Batch and its FAILED-job rule around one job of a fresh queue."""

    def __init__(
        self,
        endpoint: MotoEndpoint,
        settings: Settings,
        fake: FakeAnthropic,
        max_resumes: int,
        throttled: bool = False,
    ) -> None:
        self.settings = settings.model_copy(
            update=AWS.model_dump(include={"table", "bucket", "job_queue", "job_definition"})
        )
        self.store = DynamoStore(_client(endpoint, "dynamodb"), _client(endpoint, "s3"), TABLE, BUCKET)
        self.batch = _client(endpoint, "batch")
        self.dispatcher = BatchDispatcher(self.settings, self.store, self.batch)
        handler_settings = self.settings.model_copy(update={"max_resumes": max_resumes})
        # `throttled`: the function's first SubmitJob is throttled (botocore's Stubber on its own client)
        function_batch = _client(endpoint, "batch") if throttled else self.batch
        self.throttle = refuse_submissions(function_batch) if throttled else None
        failures = BatchFailures.from_clients(
            handler_settings,
            dynamodb=_client(endpoint, "dynamodb"),
            s3=_client(endpoint, "s3"),
            batch=function_batch,
        )
        (queue,) = self.batch.describe_job_queues(jobQueues=[AWS.job_queue])["jobQueues"]
        self.rule = EventRule(
            "failed-worker-jobs", failed_jobs_pattern(queue["jobQueueArn"]), LambdaFunction("batch", failures.handle)
        )
        # The deployment's secret holds the model's key: ECS (here, local Batch) hands it to each child.
        provision(AWS, lambda service: _client(endpoint, service), endpoint.url, {"ANTHROPIC_API_KEY": fake.api_key})
        base = _child_environment(endpoint, settings, fake, Child("", [], {}))
        secrets = _client(endpoint, "secretsmanager")
        self.local = LocalBatch(self.batch, str(AWS.job_queue), 2, base, secrets, events=self.rule.put)
        self.local.skip_jobs_so_far()  # moto's state outlives a test: only this test's jobs are its to run

    def run_until(self, condition: Callable[[], bool]) -> None:
        """Let Batch start and reap children until `condition` holds."""

        def polled() -> bool:
            self.local.poll_once()
            return condition()

        wait_for(polled, 2 * PATIENCE)

    def settled(self, job_id: str) -> bool:
        """The job's run finished and every child Batch started for it reaped."""
        (run,) = self.store.get_runs([job_id])[job_id]
        return run.status.finished and not self.local.running and not self.local.waiting

    def close(self) -> None:
        self.local.stop()
        self.rule.drain()


@pytest.fixture
def emulated(
    endpoint: MotoEndpoint, settings: Settings, fake_model: FakeAnthropic
) -> Iterator[Callable[..., EmulatedBatch]]:
    made: list[EmulatedBatch] = []

    def make(max_resumes: int, throttled: bool = False) -> EmulatedBatch:
        made.append(EmulatedBatch(endpoint, settings, fake_model, max_resumes, throttled))
        return made[-1]

    yield make
    for emulated_batch in made:
        emulated_batch.close()


def _kill_in_turn_two(emulated: EmulatedBatch, fake_model: FakeAnthropic, job_id: str) -> str:
    """Run the job's child until its second turn is in flight, then SIGKILL it: its Batch job id."""
    emulated.run_until(lambda: any(tool_results(r) for r in fake_model.requests) or bool(emulated.local.finished))
    (run,) = emulated.store.get_runs([job_id])[job_id]
    assert not emulated.local.finished, f"a child ended early: {emulated.local.finished}, {run}"
    ((first_id, process),) = emulated.local.running.items()
    assert run.batch_job_id == first_id and run.status is RunStatus.RUNNING_AGENT
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=PATIENCE)
    return first_id


def test_a_batch_child_killed_in_turn_two_outside_the_retry_rules_is_resumed_to_succeeded(
    emulated: Callable[[int], EmulatedBatch],
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN a job on the emulated Batch, its child in its second turn
    fake_model.script([second_turn.step] * 4)
    batch = emulated(2)
    origin = make_repo("greeter")
    request = JobRequest(prompt="Say hello instead of hi.", repositories=[str(origin)])
    job = create_job(batch.store, batch.dispatcher, batch.settings, request)
    # WHEN the child is killed outright and Batch, its retry rules not matching, reports the job FAILED
    first_id = _kill_in_turn_two(batch, fake_model, job.id)
    second_turn.released.set()
    batch.run_until(lambda: batch.settled(job.id))
    # THEN the rule's function resumed the run from turn 1 as the same attempt, on a new Batch job, and it SUCCEEDED
    assert batch.local.finished[first_id] == -signal.SIGKILL
    (after,) = batch.store.get_runs([job.id])[job.id]
    assert after.status is RunStatus.SUCCEEDED, after.error
    assert after.attempt == 1 and after.attempts == []
    [resumption] = after.resumptions
    assert (resumption.reason, resumption.from_turn) == (ResumeReason.RESUMED, 1)
    assert resumption.cause is not None and f"AWS Batch job {first_id} failed" in resumption.cause
    assert "exit code 137" in resumption.cause
    assert after.batch_job_id not in (None, first_id) and batch.local.finished[str(after.batch_job_id)] == 0
    # AND the model got no request for turn 1 again; only the cut-off turn 2 was sent again
    assert sum(1 for r in fake_model.requests if not tool_results(r)) == 1
    assert sum(1 for r in fake_model.requests if tool_results(r)) == 2
    # AND the patch holds turn 1's edit (carried by the checkpoint in S3) and applies
    assert after.patch is not None
    diff = batch.store.get_artifact(after.patch.artifact_key)
    assert diff is not None
    assert (applies_to_fresh_clone(origin, diff, tmp_path) / "app.py").read_text() == "print('hello')\n"


def test_a_batch_child_killed_past_its_resumptions_fails_as_worker_died(
    emulated: Callable[[int], EmulatedBatch],
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN resumption off, and a job's child in its second turn on the emulated Batch
    fake_model.script([second_turn.step] * 4)
    batch = emulated(0)
    request = JobRequest(prompt="Say hello instead of hi.", repositories=[str(make_repo("greeter"))])
    job = create_job(batch.store, batch.dispatcher, batch.settings, request)
    # WHEN the child is killed outright and Batch reports the job FAILED
    first_id = _kill_in_turn_two(batch, fake_model, job.id)
    batch.run_until(lambda: batch.settled(job.id))
    batch.rule.drain()
    # THEN the run FAILED as WORKER_DIED with Batch's reason and exit code, and no Batch job was started again
    (after,) = batch.store.get_runs([job.id])[job.id]
    assert after.status is RunStatus.FAILED and after.resumptions == []
    assert after.error is not None and after.error.kind == RunErrorKind.WORKER_DIED
    assert "Essential container in task exited" in after.error.message and "exit code 137" in after.error.message
    assert list(batch.local.finished) == [first_id] and not batch.local.running
    # AND turn 1's thread is kept
    thread = load_thread(batch.store, after)
    assert thread is not None and thread.turns == 1


def test_a_resumption_batch_throttled_once_is_submitted_by_the_redelivered_event_and_succeeds(
    emulated: Callable[..., EmulatedBatch],
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a job on the emulated Batch, its child in its second turn, and a function whose SubmitJob
    # Batch throttles for now
    fake_model.script([second_turn.step] * 4)
    batch = emulated(2, throttled=True)
    request = JobRequest(prompt="Say hello instead of hi.", repositories=[str(make_repo("greeter"))])
    job = create_job(batch.store, batch.dispatcher, batch.settings, request)
    # WHEN the child is killed outright and its FAILED event reaches the function
    first_id = _kill_in_turn_two(batch, fake_model, job.id)
    second_turn.released.set()

    def waiting_unclaimed() -> bool:
        (run,) = batch.store.get_runs([job.id])[job.id]
        return run.batch_submission is not None and run.batch_submission.claimed_at is None

    batch.run_until(waiting_unclaimed)
    batch.rule.drain()
    # THEN the run is resumed and waits for its Batch job, and none was submitted
    (waiting,) = batch.store.get_runs([job.id])[job.id]
    assert waiting.status is RunStatus.PENDING and waiting.batch_job_id is None and len(waiting.resumptions) == 1
    name = [{"name": "JOB_NAME", "values": [f"cody-batch-{job.id}"]}]
    assert [s["jobId"] for s in batch.batch.list_jobs(jobQueue=AWS.job_queue, filters=name)["jobSummaryList"]] == [
        first_id
    ]
    # WHEN Batch no longer throttles and EventBridge delivers the event again
    assert batch.throttle is not None
    batch.throttle.deactivate()
    (described,) = batch.batch.describe_jobs(jobs=[first_id])["jobs"]
    assert batch.rule.put(failed_child_event(described, -signal.SIGKILL))
    batch.run_until(lambda: batch.settled(job.id))
    # THEN exactly one new Batch job ran the resumed attempt from turn 1, and the run SUCCEEDED
    (after,) = batch.store.get_runs([job.id])[job.id]
    assert after.status is RunStatus.SUCCEEDED, after.error
    assert after.attempt == 1 and [(r.reason, r.from_turn) for r in after.resumptions] == [(ResumeReason.RESUMED, 1)]
    jobs = {s["jobId"] for s in batch.batch.list_jobs(jobQueue=AWS.job_queue, filters=name)["jobSummaryList"]}
    assert jobs == {first_id, after.batch_job_id} and batch.local.finished == {
        first_id: -signal.SIGKILL,
        str(after.batch_job_id): 0,
    }
    assert after.batch_submission is None
    # AND turn 1 was asked once; only the cut-off turn 2 was sent again
    assert sum(1 for r in fake_model.requests if not tool_results(r)) == 1

"""A resumed run's new Batch job when Batch refuses it or its submitter dies, on moto's Batch and DynamoDB:
submitted by the redelivered event or the schedule's sweep, exactly once, even when two of them race."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.errors import RunErrorKind
from core.ids import utcnow
from core.models import RepositoryRun, RunStatus
from core.ports import Store
from core.services.jobs import JobRequest, cancel_job, create_job
from core.services.progress import RunProgress
from core.services.recovery import resume
from core.services.updates import update_run
from core.settings import Settings
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.batch_failures import BatchFailures
from server.aws.batch_request import submit_job_request
from server.aws.batch_submission import CLAIM, DEADLINE, TOKEN_TAG, SubmissionRefused, Submitter, awaiting_submission
from server.aws.batch_sweep import sweep
from server.aws.emulator.schedule import scheduled_event
from server.aws.lambda_runtime import AwsRuntime
from store.sqlite import SqliteStore
from tests.integration.aws.batch_throttle import refusing_batch
from tests.integration.aws.conftest import aws_client
from tests.integration.aws.test_batch_failures import _job_in_its_agent_step, _submitted, failed_event

MakeRepo = Callable[..., Path]
T = TypeVar("T")
LATER = "cody-batch-worker-later"
"""A job definition Batch does not know: it refuses the SubmitJob for good (ClientException)."""


def _later(runtime: AwsRuntime) -> Settings:
    return runtime.settings.model_copy(update={"job_definition": LATER})


def _new_jobs(batch: Any, first: str) -> list[dict[str, Any]]:
    """The Batch jobs submitted after the job's first one."""
    return [job for job in _submitted(batch) if job["jobId"] != first]


def _run(runtime: AwsRuntime, job_id: str) -> RepositoryRun:
    (run,) = runtime.store.get_runs([job_id])[job_id]
    return run


def _died_after_resuming(store: Store, job_id: str, first: str, at: dt.datetime) -> RepositoryRun:
    """What an invocation that died right after its resume write (at `at`) leaves: the run resumed, its claim held."""
    (run,) = store.get_runs([job_id])[job_id]
    cause = f"AWS Batch job {first} failed: Essential container in task exited"
    return update_run(store, job_id, run.id, lambda r: awaiting_submission(resume(store, r, cause), first, at))


def _submitter(
    runtime: AwsRuntime, settings: Settings | None = None, after: dt.timedelta = dt.timedelta(), batch: Any = None
) -> Submitter:
    """A submitter whose clock is `after` ahead, with its own Batch client (as another invocation would be)."""
    client = batch or aws_client("batch")
    return Submitter(settings or runtime.settings, runtime.store, client, clock=lambda: utcnow() + after)


def _at_once(calls: list[Callable[[], T]]) -> list[T]:
    """What each call returned, all started together on threads of their own (released by one barrier)."""
    start = threading.Barrier(len(calls))

    def together(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(together, calls))


def test_a_submission_batch_throttles_is_made_once_by_the_redelivered_event(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run in its agent step whose child died, and a Batch that throttles the function's SubmitJob
    throttled = BatchFailures(runtime.settings, runtime.store, refusing_batch())
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    event = failed_event(job_id, first)
    # WHEN the FAILED event arrives and Batch throttles the new child's submission
    with pytest.raises(SubmissionRefused, match="to be tried again"):
        throttled.handle(event, None)
    # THEN the run was resumed once and waits for its Batch job, saying so, nobody holding its submission
    run = _run(runtime, job_id)
    assert run.status is RunStatus.PENDING and len(run.resumptions) == 1 and run.batch_job_id is None
    assert run.batch_submission is not None and run.batch_submission.replaces == first
    assert run.batch_submission.claimed_at is None
    assert run.step is not None and run.step.startswith("waiting for AWS Batch to accept the run (throttled)")
    assert _new_jobs(batch, first) == []
    # WHEN EventBridge delivers the event again, and once more, Batch no longer throttling
    failures = BatchFailures(runtime.settings, runtime.store, batch)
    again, once_more = failures.handle(event, None), failures.handle(event, None)
    # THEN exactly one new Batch job runs the resumed attempt, tagged with its resumption; the run names it
    assert (again["outcome"], once_more["outcome"]) == ("resumed", "ignored")
    (new,) = _new_jobs(batch, first)
    run = _run(runtime, job_id)
    assert run.batch_job_id == new["jobId"] and run.batch_submission is None and len(run.resumptions) == 1
    assert new["tags"][TOKEN_TAG] == f"{run.id}/1/1" and run.step is None
    assert new["container"]["command"] == ["cody-batch", "worker", "run", job_id, "--repo", "0", "--attempt", "1"]


def test_a_resumption_batch_refuses_for_good_fails_the_run_at_once(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run in its agent step whose child died, and a job definition Batch does not know
    failures = BatchFailures(_later(runtime), runtime.store, batch)
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    # WHEN the FAILED event arrives and Batch refuses the new child (ClientException)
    with pytest.raises(SubmissionRefused, match="failed: AWS Batch did not accept the run"):
        failures.handle(failed_event(job_id, first), None)
    # THEN the run fails WORKER_START_FAILED at once with Batch's reason, waiting for nothing; no sweep submits it
    run = _run(runtime, job_id)
    assert run.status is RunStatus.FAILED and run.batch_submission is None
    assert run.error is not None and run.error.kind == RunErrorKind.WORKER_START_FAILED
    assert "ClientException" in run.error.message
    assert sweep(_submitter(runtime, after=CLAIM * 2)) == {}
    assert _new_jobs(batch, first) == []


def test_a_submitter_that_died_after_resuming_is_replaced_by_the_sweep_once_its_claim_expires(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed by an invocation that died before SubmitJob
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    _died_after_resuming(runtime.store, job_id, first, utcnow())
    failures = BatchFailures(runtime.settings, runtime.store, batch)
    # WHEN the event is delivered again and the schedule sweeps, while the dead invocation's claim could still live
    redelivered = failures.handle(failed_event(job_id, first), None)
    early = failures.handle(scheduled_event("submission-sweep"), None)
    # THEN neither submits anything: the claim's holder might still be at work
    assert redelivered["outcome"] == "ignored" and early == {"outcome": "swept", "runs": {}}
    assert _new_jobs(batch, first) == []
    # WHEN the schedule sweeps after the claim expired, and again
    later = _submitter(runtime, after=CLAIM + dt.timedelta(seconds=1))
    swept, swept_again = sweep(later), sweep(later)
    # THEN one new Batch job was submitted and recorded, and nothing else
    (new,) = _new_jobs(batch, first)
    run = _run(runtime, job_id)
    assert swept == {run.id: f"submitted as Batch job {new['jobId']}"} and swept_again == {}
    assert run.batch_job_id == new["jobId"] and run.batch_submission is None and run.status is RunStatus.PENDING


def test_a_submitter_that_died_after_submitting_leaves_its_job_to_be_found_not_submitted_again(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed by an invocation that submitted its new Batch job and died before recording it
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    run = _died_after_resuming(runtime.store, job_id, first, utcnow())
    assert run.batch_submission is not None
    request = submit_job_request(runtime.settings, job_id, {0: 1})
    orphan = batch.submit_job(**{**request, "tags": {**request["tags"], TOKEN_TAG: run.batch_submission.token}})
    # WHEN the schedule sweeps after the claim expired
    swept = sweep(_submitter(runtime, after=CLAIM * 2))
    # THEN the run names that job, and no other was submitted
    assert [job["jobId"] for job in _new_jobs(batch, first)] == [orphan["jobId"]]
    after = _run(runtime, job_id)
    assert after.batch_job_id == orphan["jobId"] and after.batch_submission is None
    assert swept == {run.id: f"submitted as Batch job {orphan['jobId']}"}


@pytest.fixture
def stores(aws_settings: Settings, store: Store) -> Iterator[list[SqliteStore]]:
    """Two SQLite stores on one database, as two invocations have connections of their own. Races are
    run on SQLite: moto's DynamoDB checks a transaction's conditions and applies it without a lock, so
    two threads can both pass one version check, which DynamoDB itself never lets happen."""
    opened = [SqliteStore(aws_settings.database_path) for _ in range(2)]
    yield opened
    for each in opened:
        each.close()


def _job_on_batch(settings: Settings, store: Store, batch: Any, make_repo: MakeRepo) -> tuple[str, str]:
    """A one-run job submitted to Batch, its run in its agent step: (job id, its Batch job id)."""
    request = JobRequest(prompt="fix", repositories=[str(make_repo("r0"))])
    job = create_job(store, BatchDispatcher(settings, store, batch), settings, request)
    (run,) = store.get_runs([job.id])[job.id]
    RunProgress(store, run.id).advance(RunStatus.RUNNING_AGENT)
    return job.id, str(run.batch_job_id)


def test_two_concurrent_deliveries_of_the_event_start_one_child(
    aws_settings: Settings, store: Store, stores: list[SqliteStore], batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run whose child died, and two invocations of the function (store and Batch clients of their own)
    job_id, first = _job_on_batch(aws_settings, store, batch, make_repo)
    deliveries = [BatchFailures(aws_settings, each, aws_client("batch")) for each in stores]
    event = failed_event(job_id, first)
    # WHEN EventBridge delivers the same event to both at once
    answers = [a["outcome"] for a in _at_once([partial(f.handle, event, None) for f in deliveries])]
    # THEN one resumed the run and submitted one new child; the other left it
    assert sorted(answers) == ["ignored", "resumed"]
    (new,) = _new_jobs(batch, first)
    (run,) = store.get_runs([job_id])[job_id]
    assert run.batch_job_id == new["jobId"] and len(run.resumptions) == 1 and run.batch_submission is None


def test_two_concurrent_sweeps_start_one_child(
    aws_settings: Settings, store: Store, stores: list[SqliteStore], batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed by an invocation that died before SubmitJob, its claim expired
    job_id, first = _job_on_batch(aws_settings, store, batch, make_repo)
    _died_after_resuming(store, job_id, first, utcnow() - CLAIM * 2)
    sweepers = [Submitter(aws_settings, each, aws_client("batch")) for each in stores]
    # WHEN two sweeps run at once (a slow round and the next one)
    results = _at_once([partial(sweep, s) for s in sweepers])
    # THEN exactly one of them submitted, one child
    (new,) = _new_jobs(batch, first)
    assert sorted(len(r) for r in results) == [0, 1]
    (run,) = store.get_runs([job_id])[job_id]
    assert run.batch_job_id == new["jobId"]


def test_a_submission_batch_keeps_throttling_fails_the_run_after_the_deadline(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed by an invocation that died, and a Batch that throttles every SubmitJob
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    _died_after_resuming(runtime.store, job_id, first, utcnow())
    # WHEN the schedule sweeps before the deadline THEN the run waits on, for the next round
    soon = sweep(_submitter(runtime, after=CLAIM * 2, batch=refusing_batch(look_up=True)))
    run = _run(runtime, job_id)
    assert "to be tried again" in soon[run.id]
    assert run.status is RunStatus.PENDING and run.batch_submission is not None
    assert run.batch_submission.claimed_at is None
    # WHEN it sweeps past the deadline THEN the run fails as a refused first submission does, and stops waiting
    late = sweep(_submitter(runtime, after=DEADLINE + dt.timedelta(minutes=1), batch=refusing_batch(look_up=True)))
    run = _run(runtime, job_id)
    assert late[run.id].startswith("failed: AWS Batch did not accept the run")
    assert run.status is RunStatus.FAILED and run.batch_submission is None
    assert run.error is not None and run.error.kind == RunErrorKind.WORKER_START_FAILED
    assert "TooManyRequestsException" in run.error.message
    assert _new_jobs(batch, first) == []


def test_a_run_cancelled_while_its_submission_waits_gets_no_child(
    runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed by an invocation that died before SubmitJob, then cancelled by its user
    job_id, (first,) = _job_in_its_agent_step(runtime, make_repo)
    _died_after_resuming(runtime.store, job_id, first, utcnow())
    cancel_job(runtime.store, runtime.dispatcher, job_id)
    # WHEN the event comes again after the claim expired
    failures = BatchFailures(runtime.settings, runtime.store, batch, _submitter(runtime, after=CLAIM * 2))
    answer = failures.handle(failed_event(job_id, first), None)
    # THEN nothing is submitted; the run stays CANCELLED and no longer waits
    assert answer["outcome"] == "ignored"
    run = _run(runtime, job_id)
    assert run.status is RunStatus.CANCELLED and run.batch_submission is None
    assert _new_jobs(batch, first) == []

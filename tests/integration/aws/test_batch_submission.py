"""Every Batch submission of a job, a retry or a continue survives a throttle and a submitter that dies, on
moto's Batch: the runs wait (saying so) and the schedule's sweep submits one Batch job, found by its tag
when a dead submitter had made it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from core.errors import RunErrorKind
from core.ids import utcnow
from core.models import Budget, RepositoryRun, RunStatus
from core.ports import Store
from core.services.continuation import continue_run
from core.services.jobs import JobRequest, create_job, retry_runs
from core.services.progress import RunProgress
from core.services.recovery import resume_run
from core.services.updates import update_run
from core.settings import Settings
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.batch_owner import owns_run
from server.aws.batch_request import submit_job_request
from server.aws.batch_submission import CLAIM, TOKEN_TAG, Submitter
from server.aws.batch_sweep import HELD, sweep
from server.aws.emulator.gateway_events import LambdaContext
from server.aws.emulator.local_batch import children, local_command
from server.aws.handlers import lambda_handlers
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.connections_server import FakeConnections
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.aws.batch_throttle import UNAVAILABLE, refusing_batch
from tests.integration.aws.conftest import REGION, aws_client, make_runtime
from tests.integration.aws.test_batch_failures import _submitted
from tests.integration.aws.test_batch_resubmission import _at_once
from tests.integration.aws.test_batch_resubmission import stores as stores  # a fixture
from tests.integration.aws.test_http_handler import answer_body, request
from tests.integration.worker.conftest import greeting_edit
from tests.unit.api.test_continue_run import _stopped_at_turn_limit

MakeRepo = Callable[..., Path]
WAITING = "waiting for AWS Batch to accept the run"
CREATE_WITH_STEP = """mutation ($input: CreateJobInput!) {
  createJob(input: $input) { __typename ... on Job { id repositories { status step } } } }"""
JOB_STEPS = "query ($id: ID!) { job(id: $id) { repositories { status step } } }"
CONTEXT = LambdaContext(function_name="http")


@pytest.fixture
def aws(aws_settings: Settings, store: Store) -> Settings:
    """Settings of the AWS queue over the SQLite store the workers run on."""
    return aws_settings


@pytest.fixture
def fake_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


def _job(settings: Settings, store: Store, dispatcher: Any, make_repo: MakeRepo, repos: int = 2) -> str:
    request = JobRequest(
        prompt="Say hello instead of hi.", repositories=[str(make_repo(f"r{i}")) for i in range(repos)]
    )
    return create_job(store, dispatcher, settings, request).id


def _runs(store: Store, job_id: str) -> list[RepositoryRun]:
    return store.get_runs([job_id])[job_id]


def _later(settings: Settings, store: Store, after: dt.timedelta) -> Submitter:
    """A sweeping invocation whose clock is `after` ahead, with its own Batch client."""
    return Submitter(settings, store, aws_client("batch"), clock=lambda: utcnow() + after)


def _unreachable_batch() -> Any:
    """A Batch client whose endpoint refuses connections, tried once."""
    return boto3.client(
        "batch",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )


def _assert_named_by_one_array_job(batch: Any, runs: list[RepositoryRun]) -> dict[str, Any]:
    """The one Batch job submitted, whose children the runs name in order, none waiting any more."""
    (job,) = _submitted(batch)
    assert [run.batch_job_id for run in runs] == [f"{job['jobId']}:{i}" for i in range(len(runs))]
    assert all(run.batch_submission is None and run.step is None for run in runs)
    assert job["arrayProperties"]["size"] == len(runs)
    return job


@pytest.mark.parametrize("refusal", ["throttled", "server error", "no connection"])
def test_a_job_batch_throttles_waits_and_the_sweep_submits_it_once_to_succeeded(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo, fake_model: FakeAnthropic, refusal: str
) -> None:
    # GIVEN a Batch that refuses the first SubmitJob for a reason that passes
    clients: dict[str, Callable[[], Any]] = {
        "throttled": refusing_batch,
        "server error": partial(refusing_batch, UNAVAILABLE),
        "no connection": _unreachable_batch,
    }
    refusing = clients[refusal]()
    # WHEN a job of two repositories is created
    job_id = _job(aws, store, BatchDispatcher(aws, store, refusing), make_repo)
    # THEN its runs are PENDING, saying they wait for Batch, their submission pending for anyone to take
    runs = _runs(store, job_id)
    assert [run.status for run in runs] == [RunStatus.PENDING] * 2
    assert all(run.step is not None and run.step.startswith(WAITING) for run in runs)
    assert ("(throttled)" in str(runs[0].step)) is (refusal == "throttled")
    assert all(run.batch_job_id is None and run.batch_submission is not None for run in runs)
    assert all(run.batch_submission and run.batch_submission.claimed_at is None for run in runs)
    assert _submitted(batch) == []
    # WHEN the schedule sweeps, and sweeps again
    first, again = sweep(Submitter(aws, store, batch)), sweep(Submitter(aws, store, batch))
    # THEN one array job was submitted for both runs, tagged with their submission, and the runs name its children
    runs = _runs(store, job_id)
    job = _assert_named_by_one_array_job(batch, runs)
    assert job["tags"][TOKEN_TAG] and first == {run.id: f"submitted as Batch job {job['jobId']}" for run in runs}
    assert again == {}
    # WHEN Batch runs the children (the worker command, as the container would)
    fake_model.script(greeting_edit() + greeting_edit())
    for child in children(job):
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CODY_BATCH_", "ANTHROPIC_"))},
            **child.environment,
            "CODY_BATCH_DATA_DIR": str(aws.data_dir),
            "CODY_BATCH_ALLOWED_REPOS": ",".join(aws.allowed_repos),
            "ANTHROPIC_API_KEY": fake_model.api_key,
            "ANTHROPIC_BASE_URL": fake_model.url,
        }
        done = subprocess.run(local_command(child.command), env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    # THEN both runs SUCCEEDED with the edit
    runs = _runs(store, job_id)
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED] * 2, [run.error for run in runs]
    assert all(run.patch is not None for run in runs)


def test_a_dispatch_that_died_before_its_first_write_is_submitted_once_by_the_sweep(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job written and its dispatcher's process killed before it wrote anything (runs PENDING, nothing else)
    job_id = _job(aws, store, RecordingDispatcher(), make_repo)
    assert all(run.batch_job_id is None and run.batch_submission is None for run in _runs(store, job_id))
    # WHEN the schedule sweeps THEN it holds the runs for the next round (their writer might still go on)
    assert set(sweep(Submitter(aws, store, batch)).values()) == {HELD}
    assert _submitted(batch) == [] and sweep(Submitter(aws, store, batch)) == {}
    # WHEN the next round sweeps, and the one after
    swept, later = sweep(_later(aws, store, CLAIM * 2)), sweep(_later(aws, store, CLAIM * 3))
    # THEN exactly one Batch job runs the two runs, and they name its children
    _assert_named_by_one_array_job(batch, _runs(store, job_id))
    assert len(swept) == 2 and later == {}


def test_a_dispatcher_that_finds_the_sweep_took_its_runs_submits_nothing(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job whose runs the sweep held between the job write and its dispatch
    dispatcher = RecordingDispatcher()
    job_id = _job(aws, store, dispatcher, make_repo)
    sweep(Submitter(aws, store, batch))
    # WHEN the (slow) dispatcher goes on with its dispatch THEN it submits nothing: the runs are the sweep's
    BatchDispatcher(aws, store, aws_client("batch")).dispatch(*dispatcher.dispatched[0])
    assert _submitted(batch) == []
    # WHEN the next round sweeps THEN one Batch job runs them
    sweep(_later(aws, store, CLAIM * 2))
    _assert_named_by_one_array_job(batch, _runs(store, job_id))


def test_a_dispatcher_that_died_before_submitjob_is_replaced_by_the_sweep_once_its_claim_expires(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job whose dispatcher wrote its pending submission (holding the claim) and died before SubmitJob
    job_id = _job(aws, store, RecordingDispatcher(), make_repo)
    assert Submitter(aws, store, batch).hold(job_id, [0, 1]) is not None
    # WHEN the schedule sweeps while the claim could still live THEN nothing is submitted
    assert sweep(Submitter(aws, store, batch)) == {}
    assert _submitted(batch) == []
    # WHEN it sweeps after the claim expired, and again
    swept, again = sweep(_later(aws, store, CLAIM * 2)), sweep(_later(aws, store, CLAIM * 2))
    # THEN exactly one Batch job runs both runs
    _assert_named_by_one_array_job(batch, _runs(store, job_id))
    assert len(swept) == 2 and again == {}


def test_a_dispatcher_that_died_after_submitjob_leaves_its_job_to_be_found_not_submitted_again(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job whose dispatcher submitted its array job (tagged) and died before recording it
    job_id = _job(aws, store, RecordingDispatcher(), make_repo)
    held = Submitter(aws, store, batch).hold(job_id, [0, 1])
    assert held is not None
    request = submit_job_request(aws, job_id, held.runs)
    orphan = batch.submit_job(**{**request, "tags": {**request["tags"], TOKEN_TAG: held.token}})
    # WHEN the schedule sweeps after the claim expired
    swept = sweep(_later(aws, store, CLAIM * 2))
    # THEN the runs name that job's children, and nothing was submitted again
    runs = _runs(store, job_id)
    job = _assert_named_by_one_array_job(batch, runs)
    assert job["jobId"] == orphan["jobId"]
    assert swept == {run.id: f"submitted as Batch job {orphan['jobId']}" for run in runs}


def test_two_concurrent_sweeps_submit_stranded_runs_once(
    aws: Settings, store: Store, stores: list[SqliteStore], batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job whose dispatcher died before its first write
    job_id = _job(aws, store, RecordingDispatcher(), make_repo)
    sweepers = [Submitter(aws, each, aws_client("batch")) for each in stores]
    # WHEN two sweeps run at once (a slow round and the next one), and later two more
    held = _at_once([partial(sweep, s) for s in sweepers])
    later = [Submitter(aws, each, aws_client("batch"), clock=lambda: utcnow() + CLAIM * 2) for each in stores]
    submitted = _at_once([partial(sweep, s) for s in later])
    # THEN exactly one of the first held the runs, and exactly one of the later submitted them: one Batch job
    assert sorted(len(r) for r in held) == [0, 2] and sorted(len(r) for r in submitted) == [0, 2]
    _assert_named_by_one_array_job(batch, _runs(store, job_id))


def test_a_retry_batch_throttles_waits_and_the_sweep_submits_it(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job of one run, submitted, that failed
    job_id = _job(aws, store, BatchDispatcher(aws, store, batch), make_repo, repos=1)
    (run,) = _runs(store, job_id)
    RunProgress(store, run.id).fail(RunErrorKind.INTERNAL, "boom")
    (first,) = _submitted(batch)
    # WHEN it is retried and Batch throttles the retry's SubmitJob
    retry_runs(store, BatchDispatcher(aws, store, refusing_batch()), job_id)
    # THEN the new attempt waits for Batch, naming no Batch job (not the first attempt's)
    (run,) = _runs(store, job_id)
    assert run.attempt == 2 and run.status is RunStatus.PENDING and run.batch_job_id is None
    assert run.step is not None and run.step.startswith(WAITING)
    # WHEN the schedule sweeps THEN one Batch job runs attempt 2
    sweep(Submitter(aws, store, batch))
    (run,) = _runs(store, job_id)
    (second,) = [job for job in _submitted(batch) if job["jobId"] != first["jobId"]]
    assert run.batch_job_id == second["jobId"] and run.step is None
    assert second["container"]["command"][-2:] == ["--attempt", "2"]


def test_a_job_batch_refuses_for_good_fails_at_once_and_is_not_swept(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job definition Batch does not know (ClientException)
    unknown = aws.model_copy(update={"job_definition": "no-such-definition"})
    # WHEN a job is created
    job_id = _job(unknown, store, BatchDispatcher(unknown, store, batch), make_repo)
    # THEN its runs failed WORKER_START_FAILED at once with Batch's reason, and the sweep leaves them
    runs = _runs(store, job_id)
    assert [run.status for run in runs] == [RunStatus.FAILED] * 2
    assert all(run.error and run.error.kind == RunErrorKind.WORKER_START_FAILED for run in runs)
    assert all(run.error and "ClientException" in run.error.message for run in runs)
    assert all(run.batch_submission is None for run in runs)
    assert sweep(_later(unknown, store, CLAIM * 2)) == {}
    assert _submitted(batch) == []


def test_a_child_that_starts_before_its_submission_is_recorded_ends_the_wait(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a one-run job whose SubmitJob was throttled, so the run waits for Batch
    job_id = _job(aws, store, BatchDispatcher(aws, store, refusing_batch()), make_repo, repos=1)
    # WHEN a child of that submission starts before anyone recorded it (Batch accepted it after all)
    assert owns_run(store, {"AWS_BATCH_JOB_ID": "0123-abcd"}, job_id, 0)
    # THEN the run names that child and no longer says it waits; the sweep submits nothing more
    (run,) = _runs(store, job_id)
    assert run.batch_job_id == "0123-abcd" and run.batch_submission is None and run.step is None
    assert sweep(_later(aws, store, CLAIM * 2)) == {}
    assert _submitted(batch) == []


def test_graphql_shows_a_run_waiting_for_batch_and_then_its_submission(
    aws: Settings, connections: FakeConnections, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN the HTTP function over a Batch that throttles its SubmitJob
    throttled = make_runtime(aws, connections, batch=refusing_batch())
    http = lambda_handlers(throttled).http
    # WHEN createJob is posted through it
    variables = {"input": {"prompt": "fix", "repositories": [str(make_repo())]}}
    answer = http(request("POST", "/graphql", {"query": CREATE_WITH_STEP, "variables": variables}), CONTEXT)
    # THEN the job is created, its run PENDING and saying it waits for AWS Batch, throttled
    job = json.loads(answer_body(answer))["data"]["createJob"]
    ((status, step),) = [(run["status"], run["step"]) for run in job["repositories"]]
    assert status == "PENDING" and step.startswith(f"{WAITING} (throttled)")
    # WHEN the schedule sweeps THEN the run no longer says it waits: its Batch job is recorded
    sweep(Submitter(aws, throttled.store, batch))
    query = {"query": JOB_STEPS, "variables": {"id": job["id"]}}
    again = json.loads(answer_body(http(request("POST", "/graphql", query), CONTEXT)))["data"]["job"]
    assert [(run["status"], run["step"]) for run in again["repositories"]] == [("PENDING", None)]
    assert len(_submitted(batch)) == 1


@pytest.mark.parametrize("submitter", ["throttled", "died before its first write"])
def test_a_continued_run_whose_submission_is_throttled_or_lost_is_submitted_by_the_sweep(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo, submitter: str
) -> None:
    # GIVEN a one-run job that ran on Batch and stopped at its turn limit
    job_id = _job(aws, store, BatchDispatcher(aws, store, batch), make_repo, repos=1)
    (run,) = _runs(store, job_id)
    _stopped_at_turn_limit(store, run.id)
    (first,) = _submitted(batch)
    # WHEN the user continues it, and its dispatch is throttled, or its function dies before the dispatcher's write
    dispatcher = BatchDispatcher(aws, store, refusing_batch()) if submitter == "throttled" else RecordingDispatcher()
    continue_run(store, dispatcher, run.id, Budget(max_turns=5))
    # THEN the run is PENDING and names no Batch job (not the stopped attempt's, which ran its course)
    (run,) = _runs(store, job_id)
    assert run.status is RunStatus.PENDING and run.batch_job_id is None
    # WHEN the schedule sweeps (twice: runs nobody submits are held for a round first)
    sweep(Submitter(aws, store, batch))
    sweep(_later(aws, store, CLAIM * 2))
    # THEN one new Batch job goes on with attempt 1; the run names it
    (run,) = _runs(store, job_id)
    (new,) = [job for job in _submitted(batch) if job["jobId"] != first["jobId"]]
    assert run.batch_job_id == new["jobId"] and run.batch_submission is None and run.step is None
    assert new["container"]["command"][-4:] == ["--repo", "0", "--attempt", "1"]


def test_a_batch_child_resuming_its_run_in_place_gets_no_second_child_from_the_sweep(
    aws: Settings, store: Store, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run whose child Batch started again (lost capacity), caught between its two writes: the run
    # resumed (PENDING, naming no Batch job), not yet named by the child again
    job_id = _job(aws, store, BatchDispatcher(aws, store, batch), make_repo, repos=1)
    (run,) = _runs(store, job_id)
    (first,) = _submitted(batch)
    RunProgress(store, run.id).advance(RunStatus.RUNNING_AGENT)
    assert resume_run(store, run.id, 1, aws.max_resumes, "the capacity went away")
    # WHEN the schedule sweeps then, the child names itself, and the next round sweeps
    assert set(sweep(Submitter(aws, store, batch)).values()) == {HELD}
    update_run(store, job_id, run.id, lambda r: r.model_copy(update={"batch_job_id": first["jobId"]}))
    later = sweep(_later(aws, store, CLAIM * 2))
    # THEN no second child was submitted: the run names the child, waiting for nothing
    assert later == {} and [job["jobId"] for job in _submitted(batch)] == [first["jobId"]]
    (run,) = _runs(store, job_id)
    assert run.batch_job_id == first["jobId"] and run.batch_submission is None

"""The worker as a Batch child: its run from the array index, and SIGTERM recorded on the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.ids import utcnow
from core.models import Job, ResumeReason, RunStatus
from core.services.jobs import JobRequest, cancel_job, create_job
from core.services.progress import RunProgress
from core.services.recovery import resume
from core.services.updates import update_run
from core.settings import Settings
from server.aws.batch_submission import awaiting_submission
from tests.fakes.anthropic_server import FakeAnthropic, slow, text_turn
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.worker.conftest import wait_for
from tests.patience import PATIENCE

MakeRepo = Callable[..., Path]
CLI = str(Path(sys.executable).parent / "cody-batch")


@pytest.fixture
def fake_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


def child_env(settings: Settings, fake_model: FakeAnthropic, array_index: int, run_indexes: str) -> dict[str, str]:
    """The environment AWS Batch gives an array child, plus the settings a worker reads."""
    return {
        **os.environ,
        "CODY_BATCH_DATA_DIR": str(settings.data_dir),
        "CODY_BATCH_ALLOWED_REPOS": ",".join(settings.allowed_repos),
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake_model.url,
        "AWS_BATCH_JOB_ARRAY_INDEX": str(array_index),
        "CODY_BATCH_RUN_INDEXES": run_indexes,
    }


def sigterm_while_claude_thinks(
    argv: list[str], env: dict[str, str], fake_model: FakeAnthropic, meanwhile: Callable[[], object] = lambda: None
) -> int:
    """Start a worker whose model answers slowly, run `meanwhile`, send SIGTERM; the exit code."""
    fake_model.script([slow(text_turn("done"), 60.0)])
    child = subprocess.Popen([CLI, "worker", "run", *argv], env=env, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: bool(fake_model.requests) or child.poll() is not None)
        assert child.poll() is None, child.communicate()[1].decode()
        meanwhile()
        child.send_signal(signal.SIGTERM)
        return child.wait(timeout=PATIENCE)
    finally:
        if child.poll() is None:
            child.kill()


def test_sigterm_fails_the_childs_run_as_terminated_and_leaves_the_others(
    settings: Settings, store: Any, fake_model: FakeAnthropic, make_repo: MakeRepo
) -> None:
    # GIVEN a job of three runs, and a Batch child whose array index 1 maps to run 2 (a retry of 0 and 2)
    request = JobRequest(prompt="fix", repositories=[str(make_repo(name)) for name in "abc"])
    job = create_job(store, RecordingDispatcher(), settings, request)
    # WHEN Batch stops the child (a timeout, Spot reclaim or TerminateJob) while Claude thinks
    env = child_env(settings, fake_model, array_index=1, run_indexes="0,2")
    code = sigterm_while_claude_thinks([job.id], env, fake_model)
    # THEN it exits 143 after recording the reason on run 2; runs 0 and 1 are untouched
    assert code == 128 + signal.SIGTERM
    runs = store.get_runs([job.id])[job.id]
    assert [r.status for r in runs] == [RunStatus.PENDING, RunStatus.PENDING, RunStatus.FAILED]
    error = runs[2].error
    assert error is not None and error.kind == "TERMINATED" and "SIGTERM" in error.message


def test_a_cancelled_run_stays_cancelled_when_its_worker_gets_sigterm(
    settings: Settings, store: Any, fake_model: FakeAnthropic, make_repo: MakeRepo
) -> None:
    # GIVEN a plain Batch job running run 0, cancelled in the store while Claude thinks
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    env = child_env(settings, fake_model, array_index=0, run_indexes="")
    # WHEN TerminateJob's SIGTERM arrives after the cancel
    code = sigterm_while_claude_thinks(
        [job.id, "--repo", "0"], env, fake_model, lambda: cancel_job(store, RecordingDispatcher(), job.id)
    )
    # THEN the conditional write leaves the run CANCELLED, with no error
    assert code == 128 + signal.SIGTERM
    (run,) = store.get_runs([job.id])[job.id]
    assert run.status is RunStatus.CANCELLED and run.error is None


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "give --repo N"),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "2", "CODY_BATCH_RUN_INDEXES": "1,3"}, "past the 2 runs"),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "0", "CODY_BATCH_RUN_INDEXES": "1,x"}, "comma-separated"),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "1", "CODY_BATCH_RUN_ATTEMPTS": "1"}, "past the 1 runs"),
    ],
)
def test_a_child_without_a_usable_index_is_a_usage_error(
    settings: Settings, store: Any, make_repo: MakeRepo, env: dict[str, str], problem: str
) -> None:
    # GIVEN a stored job WHEN a worker starts with no index, or one its list does not cover
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_BATCH_", "CODY_BATCH_"))}
    base["CODY_BATCH_DATA_DIR"] = str(settings.data_dir)
    result = subprocess.run([CLI, "worker", "run", job.id], env={**base, **env}, capture_output=True, text=True)
    # THEN it exits 2 naming the problem, and the run is untouched
    assert result.returncode == 2 and problem in result.stderr
    (run,) = store.get_runs([job.id])[job.id]
    assert run.status is RunStatus.PENDING and run.version == 1


def batch_retry(settings: Settings, job_id: str, attempt: int, **variables: str) -> subprocess.CompletedProcess[str]:
    """The worker as Batch starts it again (AWS_BATCH_JOB_ATTEMPT=2) for run 0's `attempt`, with no model key."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_BATCH_", "CODY_BATCH_", "ANTHROPIC_"))}
    env = {
        **base,
        "CODY_BATCH_DATA_DIR": str(settings.data_dir),
        "CODY_BATCH_ALLOWED_REPOS": ",".join(settings.allowed_repos),
        "AWS_BATCH_JOB_ATTEMPT": "2",
        "AWS_BATCH_JOB_ID": "0123-abcd:0",
        **variables,
    }
    argv = [CLI, "worker", "run", job_id, "--repo", "0", "--attempt", str(attempt)]
    return subprocess.run(argv, env=env, capture_output=True, text=True)


def _lost_run(settings: Settings, store: Any, make_repo: MakeRepo, lost: str) -> Job:
    """A job whose one run's worker lost its host mid-step, or recorded a SIGTERM (a Spot reclaim)."""
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    (run,) = store.get_runs([job.id])[job.id]
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.CLONING)
    progress.advance(RunStatus.RUNNING_AGENT)
    if lost == "sigterm":
        progress.fail("TERMINATED", "the worker was stopped (SIGTERM)")
    return job


@pytest.mark.parametrize("lost", ["mid-step", "sigterm"])
def test_a_batch_retry_after_lost_capacity_resumes_the_same_attempt(
    settings: Settings, store: Any, make_repo: MakeRepo, lost: str
) -> None:
    # GIVEN a run whose worker lost its capacity, its attempt never resumed yet
    job = _lost_run(settings, store, make_repo, lost)
    # WHEN Batch starts the child again for that attempt
    result = batch_retry(settings, job.id, attempt=1)
    # THEN the child resumed attempt 1 (here it then fails: no model key), saying why it was resumed,
    # and the run still names its Batch job
    assert result.returncode == 0, result.stderr
    (after,) = store.get_runs([job.id])[job.id]
    assert after.attempt == 1 and after.attempts == []
    assert after.error is not None and after.error.kind == "CONFIGURATION"
    (resumption,) = after.resumptions
    assert resumption.reason is ResumeReason.RESUMED and resumption.from_turn == 0
    assert resumption.cause is not None and "Batch child attempt started again" in resumption.cause
    assert ("SIGTERM" in resumption.cause) is (lost == "sigterm")
    assert after.batch_job_id == "0123-abcd:0"


@pytest.mark.parametrize("lost", ["mid-step", "sigterm"])
def test_a_batch_retry_past_the_resumptions_runs_the_next_attempt(
    settings: Settings, store: Any, make_repo: MakeRepo, lost: str
) -> None:
    # GIVEN a run whose worker lost its capacity, with resumption off
    job = _lost_run(settings, store, make_repo, lost)
    # WHEN Batch starts the child again for that attempt
    result = batch_retry(settings, job.id, attempt=1, CODY_BATCH_MAX_RESUMES="0")
    # THEN the child ran the run's second attempt (here it fails: no model key), keeping the first on
    # record as TERMINATED, and the run still names its Batch job
    assert result.returncode == 0, result.stderr
    (after,) = store.get_runs([job.id])[job.id]
    assert after.attempt == 2 and after.status is RunStatus.FAILED and after.resumptions == []
    assert after.error is not None and after.error.kind == "CONFIGURATION"
    (first,) = after.attempts
    assert first.error is not None and first.error.kind == "TERMINATED"
    assert after.batch_job_id == "0123-abcd:0"


def test_a_batch_retry_leaves_a_run_that_failed_for_its_own_reasons(
    settings: Settings, store: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run that failed on its own (not a lost worker)
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    (run,) = store.get_runs([job.id])[job.id]
    RunProgress(store, run.id).fail("CONFIGURATION", "no key")
    # WHEN Batch starts the child again THEN nothing changes: retrying it is the user's decision
    result = batch_retry(settings, job.id, attempt=1)
    assert result.returncode == 0, result.stderr
    (after,) = store.get_runs([job.id])[job.id]
    assert after.attempt == 1 and after.attempts == [] and after.error is not None
    assert after.error.message == "no key"


def _named(store: Any, job: Job, batch_job_id: str | None) -> None:
    (run,) = store.get_runs([job.id])[job.id]
    update_run(store, job.id, run.id, lambda r: r.model_copy(update={"batch_job_id": batch_job_id}))


def test_a_child_whose_run_names_another_batch_job_leaves_the_run_untouched(
    settings: Settings, store: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a queued run that names its Batch job, at the attempt and resumption a second child was started for
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    _named(store, job, "0123-abcd")
    (before,) = store.get_runs([job.id])[job.id]
    # WHEN a duplicate child (another Batch job) starts for the same run and attempt, first on Batch
    result = batch_retry(settings, job.id, attempt=1, AWS_BATCH_JOB_ID="4567-dup", AWS_BATCH_JOB_ATTEMPT="1")
    # THEN it exits 0 without a single write: the attempt and resumption fences alone would have let it run
    assert result.returncode == 0, result.stderr
    (after,) = store.get_runs([job.id])[job.id]
    assert after == before


def test_a_child_started_before_its_resumption_was_recorded_names_itself_and_ends_the_wait(
    settings: Settings, store: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run resumed after Batch job 0123-abcd failed, its new Batch job submitted but not recorded
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="fix", repositories=[str(make_repo())]))
    (run,) = store.get_runs([job.id])[job.id]
    RunProgress(store, run.id).advance(RunStatus.RUNNING_AGENT)
    cause = "AWS Batch job 0123-abcd failed: Essential container in task exited"
    update_run(store, job.id, run.id, lambda r: awaiting_submission(resume(store, r, cause), "0123-abcd", utcnow()))
    # WHEN that new child starts
    result = batch_retry(settings, job.id, attempt=1, AWS_BATCH_JOB_ID="89ab-new", AWS_BATCH_JOB_ATTEMPT="1")
    # THEN it names itself on the run, which waits for no submission any more, and runs it (here: no model key)
    assert result.returncode == 0, result.stderr
    (after,) = store.get_runs([job.id])[job.id]
    assert after.batch_job_id == "89ab-new" and after.batch_submission is None
    assert len(after.resumptions) == 1
    assert after.error is not None and after.error.kind == "CONFIGURATION"

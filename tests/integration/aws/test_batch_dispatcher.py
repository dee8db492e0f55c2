"""BatchDispatcher on moto's Batch: array jobs, the index mapping, Batch ids on runs, TerminateJob."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.models import RunStatus
from core.services.jobs import JobRequest, cancel_job, create_job, retry_runs
from core.services.progress import RunProgress
from core.settings import Settings
from server.aws.batch_dispatcher import CANCEL_REASON, BatchDispatcher
from server.aws.batch_index import batch_child_run

MakeRepo = Callable[..., Path]


def aws_settings(settings: Settings, queue: str = "cody-batch") -> Settings:
    return settings.model_copy(update={"job_queue": queue, "job_definition": "cody-batch-worker"})


def describe(batch: Any, job_id: str) -> dict[str, Any]:
    (job,) = batch.describe_jobs(jobs=[job_id])["jobs"]
    return job


def environment(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in job["container"].get("environment", [])}


def submit(settings: Settings, store: Any, batch: Any, repos: list[Path]) -> tuple[str, BatchDispatcher]:
    dispatcher = BatchDispatcher(aws_settings(settings), store, batch)
    request = JobRequest(prompt="fix", repositories=[str(r) for r in repos])
    return create_job(store, dispatcher, settings, request).id, dispatcher


def test_a_job_of_three_repositories_is_one_array_job_with_a_child_per_run(
    settings: Settings, store: Any, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN three repositories WHEN a job over them is created
    job_id, _ = submit(settings, store, batch, [make_repo("a"), make_repo("b"), make_repo("c")])
    # THEN each run names its child of one array job of size 3, which runs the worker command
    runs = store.get_runs([job_id])[job_id]
    parent = {run.batch_job_id.split(":")[0] for run in runs if run.batch_job_id}
    assert len(parent) == 1
    (array_id,) = parent
    assert [run.batch_job_id for run in runs] == [f"{array_id}:0", f"{array_id}:1", f"{array_id}:2"]
    array = describe(batch, array_id)
    assert array["arrayProperties"]["size"] == 3
    assert array["container"]["command"] == ["cody-batch", "worker", "run", job_id]
    assert environment(array)["CODY_BATCH_RUN_INDEXES"] == "0,1,2"
    assert environment(array)["CODY_BATCH_RUN_ATTEMPTS"] == "1,1,1"
    assert array["jobName"] == f"cody-batch-{job_id}"


def test_a_retry_of_runs_1_and_3_is_an_array_of_two_whose_children_find_their_runs(
    settings: Settings, store: Any, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job of four runs where runs 1 and 3 failed
    job_id, dispatcher = submit(settings, store, batch, [make_repo(name) for name in "abcd"])
    first = store.get_runs([job_id])[job_id]
    for run in (first[1], first[3]):
        RunProgress(store, run.id).fail("INTERNAL", "boom")
    # WHEN the failed runs are retried
    retry_runs(store, dispatcher, job_id)
    # THEN one array job of two children runs them: child 0 is run 1 and child 1 is run 3
    runs = store.get_runs([job_id])[job_id]
    array_id = runs[1].batch_job_id.split(":")[0]
    assert (runs[1].batch_job_id, runs[3].batch_job_id) == (f"{array_id}:0", f"{array_id}:1")
    assert (runs[0].batch_job_id, runs[2].batch_job_id) == (first[0].batch_job_id, first[2].batch_job_id)
    array = describe(batch, array_id)
    assert array["arrayProperties"]["size"] == 2
    env = environment(array)
    children = [batch_child_run({**env, "AWS_BATCH_JOB_ARRAY_INDEX": str(i)}) for i in range(2)]
    assert children == [(1, 2), (3, 2)]


def test_a_single_run_is_a_plain_job_with_its_index_in_the_command(
    settings: Settings, store: Any, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job of two runs, the second of which failed
    job_id, dispatcher = submit(settings, store, batch, [make_repo("a"), make_repo("b")])
    run = store.get_runs([job_id])[job_id][1]
    RunProgress(store, run.id).fail("INTERNAL", "boom")
    # WHEN it alone is retried
    retry_runs(store, dispatcher, job_id)
    # THEN a plain job (no array: Batch arrays need two children) runs `--repo 1` for its second attempt
    retried = store.get_runs([job_id])[job_id][1]
    assert retried.batch_job_id is not None and ":" not in retried.batch_job_id
    plain = describe(batch, retried.batch_job_id)
    assert "arrayProperties" not in plain or "size" not in plain["arrayProperties"]
    assert plain["container"]["command"] == ["cody-batch", "worker", "run", job_id, "--repo", "1", "--attempt", "2"]


def test_cancel_terminates_the_batch_job_of_each_unfinished_run(
    settings: Settings, store: Any, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job of two runs, the first of which already succeeded
    job_id, dispatcher = submit(settings, store, batch, [make_repo("a"), make_repo("b")])
    done, running = store.get_runs([job_id])[job_id]
    progress = RunProgress(store, done.id)
    progress.advance(RunStatus.CLONING)
    progress.advance(RunStatus.RUNNING_AGENT)
    progress.advance(RunStatus.SUCCEEDED)
    # WHEN the job is cancelled
    cancel_job(store, dispatcher, job_id)
    # THEN TerminateJob reached the unfinished run's child only, with the reason
    assert describe(batch, running.batch_job_id).get("statusReason") == CANCEL_REASON
    assert describe(batch, done.batch_job_id).get("statusReason") != CANCEL_REASON


def test_a_job_batch_refuses_fails_its_runs_instead_of_leaving_them_pending(
    settings: Settings, store: Any, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a dispatcher pointed at a queue that does not exist
    dispatcher = BatchDispatcher(aws_settings(settings, queue="no-such-queue"), store, batch)
    request = JobRequest(prompt="fix", repositories=[str(make_repo("a")), str(make_repo("b"))])
    # WHEN a job is created
    job = create_job(store, dispatcher, settings, request)
    # THEN its runs failed with the reason, and none names a Batch job
    runs = store.get_runs([job.id])[job.id]
    assert [r.status for r in runs] == [RunStatus.FAILED, RunStatus.FAILED]
    assert all(r.error is not None and r.error.kind == "WORKER_START_FAILED" for r in runs)
    assert all("no-such-queue" in (r.error.message if r.error else "") for r in runs)
    assert all(r.batch_job_id is None for r in runs)

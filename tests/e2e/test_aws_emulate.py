"""End to end on `cody-batch aws emulate`: the AWS code path — Lambda handlers, DynamoDB and its stream,
S3, Batch — on moto server, with real workers, a fake Claude over HTTP and the graphql-ws client."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from server.aws.emulator.moto_endpoint import MotoEndpoint, start_endpoint
from server.demo.anthropic_replay import RecordedRequest
from tests.e2e.conftest import Server, run_browser
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn, view
from tests.patience import PATIENCE

EMULATE = ("aws", "emulate")
JOB_ORDER = ["QUEUED", "RUNNING", "SUCCEEDED"]
RUN_ORDER = ["PENDING", "CLONING", "RUNNING_AGENT", "VALIDATING", "PUBLISHING", "SUCCEEDED"]
JOB_QUERY = """query($id: ID!) {
  job(id: $id) { status cursor repositories { id index status patch { diff } } }
  jobEvents(jobId: $id, first: 500) { cursor kind runId newValue }
}"""


@pytest.fixture
def moto() -> Iterator[MotoEndpoint]:
    """moto server outside the emulator, so the test can look at what the AWS side holds."""
    endpoint = start_endpoint()
    yield endpoint
    endpoint.stop()


def _aws(moto: MotoEndpoint, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _gated_turns(gate: threading.Event) -> Callable[[RecordedRequest], dict[str, Any]]:
    """View, edit, finish, decided by the conversation; the first turn waits until the client has seen every
    run working."""

    def turn(request: RecordedRequest) -> dict[str, Any]:
        turns_so_far = sum(1 for message in request.body["messages"] if message["role"] == "assistant")
        if turns_so_far == 0:
            gate.wait(timeout=PATIENCE)
            return tool_turn(view("app.py"))
        if turns_so_far == 1:
            return tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))
        return text_turn("Changed the greeting to hello.")

    return turn


def _all_working(frame: dict[str, Any]) -> bool:
    return all(run["status"] == "RUNNING_AGENT" for run in frame["repositories"])


def _in_order(seen: list[str], order: list[str]) -> bool:
    positions = [order.index(status) for status in seen]
    return positions == sorted(positions)


def test_a_job_runs_through_batch_dynamodb_and_the_stream_to_a_graphql_ws_client(
    serve: Callable[..., Server], make_repo: Callable[..., Path], moto: MotoEndpoint
) -> None:
    # GIVEN `aws emulate` on moto server, real workers, and a fake Claude that waits until the client has seen
    # both runs at work
    repos = [make_repo("alpha"), make_repo("beta")]
    listening = threading.Event()
    with FakeAnthropic() as fake:
        fake.script([_gated_turns(listening)] * 6)
        server = serve(
            {"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url, "AWS_ENDPOINT_URL": moto.url},
            command=EMULATE,
        )
        # WHEN a job over two repositories is created and followed with graphql-ws
        created = server.graphql(
            "mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }",
            {"input": {"prompt": "Say hello", "title": "On AWS", "repositories": [str(r) for r in repos]}},
        )
        job_id = created["createJob"]["id"]
        socket_url = httpx.get(f"{server.url}/config.json").json()["websocketUrl"]

        # The runs go on only once a frame showed them all at work: from there on a fast run may finish
        # within one stream poll, and the client would get its later states as one frame.
        def progress(line: str) -> None:
            if line.startswith("FRAME ") and _all_working(json.loads(line[len("FRAME ") :])):
                listening.set()

        result = run_browser("ws_follow.mjs", [socket_url, job_id], progress, ["--experimental-websocket"])
        listening.set()
    log = server.log.read_text()[-4000:]
    assert "error" not in result, f"{result['error']}\n{log}"
    frames = result["frames"]
    # THEN the client got the job's state at each change, in order, none twice, ending SUCCEEDED
    cursors = [f["cursor"] for f in frames]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors), cursors
    job_statuses = [f["status"] for f in frames]
    assert _in_order(job_statuses, JOB_ORDER) and "RUNNING" in job_statuses, job_statuses
    assert job_statuses[-1] == "SUCCEEDED"
    # AND every run was seen working, then finished, its statuses never going backwards
    for index in (0, 1):
        statuses = [f["repositories"][index]["status"] for f in frames]
        assert _in_order(statuses, RUN_ORDER) and statuses[-1] == "SUCCEEDED", statuses
        assert "RUNNING_AGENT" in statuses, statuses
    # AND the last frame is the job as stored, and every job status change after the first frame was pushed
    stored = server.graphql(JOB_QUERY, {"id": job_id})
    assert frames[-1]["cursor"] == stored["job"]["cursor"]
    changes = [e["newValue"] for e in stored["jobEvents"] if e["kind"] == "STATUS" and e["runId"] is None]
    pushed = [s for i, s in enumerate(job_statuses) if i == 0 or s != job_statuses[i - 1]]
    assert changes[changes.index(pushed[0]) :] == pushed
    # AND the runs went to AWS Batch as one array job of two children
    batch = _aws(moto, "batch")
    summaries = batch.list_jobs(jobQueue="cody-batch-workers")["jobSummaryList"]
    parents = [s["jobId"] for s in summaries if ":" not in s["jobId"]]
    assert len(parents) == 1
    described = batch.describe_jobs(jobs=parents)["jobs"][0]
    assert described["arrayProperties"]["size"] == 2
    assert described["container"]["command"][:4] == ["cody-batch", "worker", "run", job_id]
    # AND the workers' events are items in DynamoDB, one per event
    items = _aws(moto, "dynamodb").query(
        TableName="cody-batch",
        KeyConditionExpression="pk = :p AND begins_with(sk, :e)",
        ExpressionAttributeValues={":p": {"S": f"JOB#{job_id}"}, ":e": {"S": "EVENT#"}},
    )["Items"]
    assert len(items) == len(stored["jobEvents"]) and {i["item_type"]["S"] for i in items} == {"event"}
    # AND each patch downloads intact: byte for byte the API's diff, and it applies to its repository
    for run, repo in zip(stored["job"]["repositories"], repos, strict=True):
        download = httpx.get(f"{server.url}/jobs/{job_id}/runs/{run['id']}/patch")
        assert download.status_code == 200 and download.content == run["patch"]["diff"].encode()
        applied = subprocess.run(["git", "apply", "--check", "-"], cwd=repo, input=download.content, check=False)
        assert applied.returncode == 0

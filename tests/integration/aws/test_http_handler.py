"""http_handler: GraphQL over HTTP, the patch download and /config.json behind API Gateway's HTTP API."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from core.models import Patch, RunStatus
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.settings import Settings
from server import lambdas
from server.aws.emulator.gateway_events import LambdaContext, WebSocketPeer, connect_event, http_event, message_event
from server.aws.handlers import lambda_handlers
from server.aws.lambda_runtime import AwsRuntime
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import make_runtime

MakeRepo = Callable[..., Path]
CREATE = """mutation ($input: CreateJobInput!) {
  createJob(input: $input) { __typename ... on Job { id status repositories { id status } } } }"""
HOST = "api.example.com"


def request(
    method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, str] | None = None, **headers: str
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway makes of one request."""
    pairs = list((query or {}).items())
    all_headers = {"host": HOST, "content-type": "application/json", "accept": "application/json", **headers}
    data = b"" if body is None else json.dumps(body).encode()
    return http_event(method, path, urlencode(pairs), pairs, all_headers.items(), data, "203.0.113.9")


def answer_body(answer: dict[str, Any]) -> bytes:
    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()


@pytest.fixture
def http(runtime: AwsRuntime) -> Callable[[dict[str, Any]], dict[str, Any]]:
    handler = lambda_handlers(runtime).http
    return lambda event: handler(event, LambdaContext(function_name="http"))


def test_create_job_runs_through_the_handler_and_reaches_batch(
    http: Callable[[dict[str, Any]], dict[str, Any]], runtime: AwsRuntime, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a repository WHEN createJob is posted to /graphql through the handler
    variables = {"input": {"prompt": "fix", "repositories": [str(make_repo())]}}
    answer = http(request("POST", "/graphql", {"query": CREATE, "variables": variables}))
    # THEN the job comes back, is stored in DynamoDB, and its run names a submitted Batch job
    assert answer["statusCode"] == 200
    job = json.loads(answer_body(answer))["data"]["createJob"]
    assert job["__typename"] == "Job" and job["status"] == "QUEUED"
    (run,) = runtime.store.get_runs([job["id"]])[job["id"]]
    assert run.batch_job_id is not None
    assert batch.describe_jobs(jobs=[run.batch_job_id])["jobs"][0]["jobName"] == f"cody-batch-{job['id']}"


def test_graphql_over_http_rules_hold_through_the_handler(http: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    # WHEN a mutation comes by GET, and a bad document with the graphql-response media type
    by_get = http(request("GET", "/graphql", query={"query": 'mutation { cancelJob(id: "x") { id } }'}))
    bad = http(request("POST", "/graphql", {"query": "{ nope }"}, accept="application/graphql-response+json"))
    # THEN they get 405 and 400 as from the local server
    assert by_get["statusCode"] == 405
    assert bad["statusCode"] == 400 and "data" not in json.loads(answer_body(bad))


def test_config_names_the_websocket_api(
    runtime: AwsRuntime, aws_settings: Settings, connections: FakeConnections
) -> None:
    # GIVEN the callback URL, and separately an explicit public WebSocket URL
    derived = lambda_handlers(runtime).http
    explicit_settings = aws_settings.model_copy(update={"websocket_url": "wss://ws.example.com/live"})
    explicit = lambda_handlers(make_runtime(explicit_settings, connections)).http
    # WHEN /config.json is asked for
    first = json.loads(answer_body(derived(request("GET", "/config.json"), None)))
    second = json.loads(answer_body(explicit(request("GET", "/config.json"), None)))
    # THEN GraphQL is on this host and the WebSocket where the settings say
    assert first == {"graphqlUrl": f"https://{HOST}/graphql", "websocketUrl": connections.url.replace("http", "ws", 1)}
    assert second["websocketUrl"] == "wss://ws.example.com/live"


def test_the_patch_downloads_intact_and_an_unknown_run_is_404(
    http: Callable[[dict[str, Any]], dict[str, Any]], runtime: AwsRuntime, make_repo: MakeRepo, aws_settings: Settings
) -> None:
    # GIVEN a run whose patch (1 MB, so it lives in S3) is stored

    job = create_job(
        runtime.store, runtime.dispatcher, aws_settings, JobRequest(prompt="fix", repositories=[str(make_repo())])
    )
    (run,) = runtime.store.get_runs([job.id])[job.id]
    diff = ("+" + "x" * 99 + "\n").encode() * 10_000
    runtime.store.put_artifact("patches/big.diff", diff)
    progress = RunProgress(runtime.store, run.id)
    progress.advance(RunStatus.CLONING)
    progress.advance(RunStatus.RUNNING_AGENT, patch=Patch(artifact_key="patches/big.diff"))
    # WHEN it is downloaded, and a run that does not exist
    answer = http(request("GET", f"/jobs/{job.id}/runs/{run.id}/patch"))
    missing = http(request("GET", f"/jobs/{job.id}/runs/nope/patch"))
    # THEN the bytes are intact, as an attachment; the unknown run is 404
    assert answer["statusCode"] == 200 and answer_body(answer) == diff
    assert "attachment" in answer["headers"]["content-disposition"]
    assert missing["statusCode"] == 404


def test_the_handler_module_serves_all_three_apis_from_the_environment(
    lambda_environment: None, connections: FakeConnections
) -> None:
    # WHEN API Gateway and the stream call the module's handlers, configured only by the environment
    settings = lambdas.http_handler(request("POST", "/graphql", {"query": "{ settings { backend } }"}), None)

    peer = WebSocketPeer("c1", HOST, "203.0.113.9", 0)
    connected = lambdas.websocket_handler(
        connect_event(peer, [("Sec-WebSocket-Protocol", "graphql-transport-ws")], []), None
    )
    lambdas.websocket_handler(message_event(peer, json.dumps({"type": "connection_init"})), None)
    streamed = lambdas.stream_handler({"Records": []}, None)
    # THEN each answers as its API expects
    assert json.loads(answer_body(settings)) == {"data": {"settings": {"backend": "aws"}}}
    assert connected["headers"] == {"Sec-WebSocket-Protocol": "graphql-transport-ws"}
    assert connections.sent("c1") == [{"type": "connection_ack"}]
    assert streamed == {"batchItemFailures": []}

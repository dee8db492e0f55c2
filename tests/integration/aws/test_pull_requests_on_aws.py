"""Pull requests on AWS: GitHub's webhook through the HTTP handler, the scheduled refresh and the two
mutations, with the GitHub function answering over Lambda's Invoke API and PyGithub reaching the fake GitHub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from core.models import EventKind, Job, PullRequestState
from core.settings import Settings
from server.aws.emulator.gateway import LambdaFunction
from server.aws.emulator.gateway_events import LambdaContext, http_event
from server.aws.emulator.lambda_invoke import LambdaInvokeApi
from server.aws.emulator.schedule import scheduled_event
from server.aws.github_function import github_function
from server.aws.handlers import lambda_handlers
from server.aws.lambda_runtime import AwsRuntime
from server.aws.stream import StreamFanout
from server.runtime.worker_config import github_access
from store.dynamo_pacer import DynamoPacer
from tests.fakes.connections_server import FakeConnections
from tests.fakes.github_fixtures import fake_github, github_settings
from tests.fakes.github_server import FakeGitHub
from tests.integration.aws.conftest import TABLE, aws_client, make_runtime
from tests.integration.aws.socket_client import SocketClient
from tests.integration.aws.stream_records import StreamReader
from tests.integration.cli.live_server import LiveServer
from tests.integration.github.conftest import WEBHOOK_SECRET
from tests.integration.github.pull_request_jobs import pull_request_job
from worker.github.pull_status import github_pull_requests

TALLY = "subscription ($id: ID!) { jobUpdated(id: $id) { cursor pullRequests { open merged closed } } }"
REFRESH = "mutation ($id: ID!) { refreshPullRequests(jobId: $id) { pullRequests { open merged closed } } }"
__all__ = ["fake_github", "github_settings"]  # fixtures
ACTION = """mutation ($id: ID!, $action: PullRequestAction!, $comment: String) {
  pullRequestAction(jobId: $id, action: $action, comment: $comment) { number outcome message } }"""


@dataclass
class Deployment:
    """The HTTP handler and the GitHub function over moto, a job with three open pull requests, a subscriber."""

    runtime: AwsRuntime
    http: Callable[[dict[str, Any], Any], dict[str, Any]]
    invoke_url: str
    job: Job
    subscriber: SocketClient
    reader: StreamReader

    async def _invoke_http(self, event: dict[str, Any]) -> dict[str, Any]:
        # In a thread, as Lambda runs a handler: synchronous, no event loop of the caller's.
        return await asyncio.to_thread(self.http, event, LambdaContext(function_name="http"))

    async def deliver(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """GitHub's POST to /webhooks/github, as API Gateway hands it to the HTTP function."""
        event = http_event("POST", "/webhooks/github", "", [], headers.items(), body, "140.82.115.1")
        answer = await self._invoke_http(event)
        return {"status": answer["statusCode"], **json.loads(answer["body"])}

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        headers = {"host": "api.example.com", "content-type": "application/json", "accept": "application/json"}
        event = http_event("POST", "/graphql", "", [], headers.items(), body, "203.0.113.9")
        answer = json.loads((await self._invoke_http(event))["body"])
        assert "errors" not in answer, answer
        return dict(answer["data"])

    async def pushed(self) -> list[dict[str, Any]]:
        """Run the stream handler over what is new on the stream; the tallies the subscriber got."""
        before = len(self.subscriber.frames)
        await asyncio.to_thread(StreamFanout(self.runtime).handle, {"Records": self.reader.read()})
        return [f["payload"]["data"]["jobUpdated"]["pullRequests"] for f in self.subscriber.frames[before:]]

    def pull_states(self) -> list[PullRequestState]:
        runs = self.runtime.store.get_runs([self.job.id])[self.job.id]
        return [run.pull_request.state for run in runs]


@pytest.fixture
def aws_github_settings(github_settings: Settings, aws_settings: Settings) -> Settings:
    aws = {k: getattr(aws_settings, k) for k in ("backend", "table", "bucket", "job_queue", "job_definition")}
    return github_settings.model_copy(
        update={
            **aws,
            "ws_endpoint": aws_settings.ws_endpoint,
            "github_function": "github",
            "github_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
    )


@pytest.fixture
async def deployment(
    aws_github_settings: Settings, connections: FakeConnections, batch: Any, fake_github: FakeGitHub
) -> AsyncIterator[Deployment]:
    invoke = LambdaInvokeApi({})
    server = LiveServer(Starlette(routes=invoke.routes()))
    invoke_url = f"http://127.0.0.1:{server.port}"
    runtime = make_runtime(aws_github_settings, connections, lambda_client=aws_client("lambda", invoke_url))
    # The GitHub function, as its handler module builds it, behind Lambda's Invoke API on the server's port.
    host = github_pull_requests(github_access(aws_github_settings), DynamoPacer(aws_client("dynamodb"), TABLE))
    invoke.functions["github"] = LambdaFunction("github", github_function(runtime.store, host))
    server.start()
    try:
        job = pull_request_job(runtime.store, fake_github, ["acme/one", "acme/two", "acme/three"])
        reader = StreamReader()
        reader.read()  # the job's making is not the subscriber's
        subscriber = SocketClient(runtime, connections, "reviewer")
        await subscriber.open()
        await subscriber.subscribe("s1", TALLY, {"id": job.id})
        yield Deployment(runtime, lambda_handlers(runtime).http, invoke_url, job, subscriber, reader)
    finally:
        server.stop()


async def test_a_webhook_delivery_updates_the_pull_request_and_reaches_the_subscriber_once(
    deployment: Deployment, fake_github: FakeGitHub
) -> None:
    # GIVEN pull request #1 merged on GitHub
    fake_github.merge_pull(1)
    body, headers = fake_github.delivery("pull_request", fake_github.pull_request_payload(1, "closed"), WEBHOOK_SECRET)
    # WHEN GitHub delivers it to the HTTP API
    answer = await deployment.deliver(body, headers)
    # THEN it is applied: the run's pull request is merged, with a PULL_REQUEST event on the stream
    assert answer == {"status": 200, "delivery": headers["X-GitHub-Delivery"], "outcome": "applied"}
    assert deployment.pull_states() == [PullRequestState.MERGED, PullRequestState.OPEN, PullRequestState.OPEN]
    events = deployment.runtime.store.list_events(deployment.job.id, deployment.job.last_seq)
    assert [e.kind for e in events] == [EventKind.PULL_REQUEST]
    # AND the stream handler sends the subscriber the job with the merge
    assert await deployment.pushed() == [{"open": 2, "merged": 1, "closed": 0}]
    # WHEN GitHub delivers the same delivery again
    reads = len(fake_github.requests)
    again = await deployment.deliver(body, headers)
    # THEN it is a duplicate: GitHub is not asked, nothing is written, nothing is pushed
    assert again["status"] == 200 and again["outcome"] == "duplicate"
    assert len(fake_github.requests) == reads
    assert deployment.runtime.store.list_events(deployment.job.id, deployment.job.last_seq) == events
    assert await deployment.pushed() == []


async def test_a_badly_signed_delivery_is_refused_and_changes_nothing(
    deployment: Deployment, fake_github: FakeGitHub
) -> None:
    # GIVEN a merge delivered with a signature made with another secret
    fake_github.merge_pull(1)
    body, headers = fake_github.delivery("pull_request", fake_github.pull_request_payload(1, "closed"), "wrong")
    # WHEN it reaches the HTTP API THEN it is refused before GitHub is asked, and nothing changed
    assert (await deployment.deliver(body, headers))["status"] == 401
    assert not fake_github.requests
    assert deployment.pull_states() == [PullRequestState.OPEN] * 3
    # AND the same delivery properly signed is still applied (the refused one claimed nothing)
    body, good = fake_github.delivery(
        "pull_request", fake_github.pull_request_payload(1, "closed"), WEBHOOK_SECRET, headers["X-GitHub-Delivery"]
    )
    assert (await deployment.deliver(body, good))["outcome"] == "applied"


async def test_the_scheduled_refresh_reads_open_pull_requests_conditionally(
    deployment: Deployment, fake_github: FakeGitHub
) -> None:
    # GIVEN the pull requests read once, then #2 merged and #3 closed on GitHub with no delivery
    lambda_client = aws_client("lambda", deployment.invoke_url)

    def scheduled() -> dict[str, Any]:
        answer = lambda_client.invoke(FunctionName="github", Payload=json.dumps(scheduled_event("refresh")))
        assert "FunctionError" not in answer
        return dict(json.loads(answer["Payload"].read()))

    assert scheduled() == {"refreshedJobs": 1}
    await deployment.pushed()
    fake_github.merge_pull(2)
    fake_github.close_pull(3)
    unchanged_before = fake_github.not_modified
    # WHEN the schedule fires
    assert scheduled() == {"refreshedJobs": 1}
    # THEN the changes are stored and pushed, and the unchanged pull request cost only 304s
    assert deployment.pull_states() == [PullRequestState.OPEN, PullRequestState.MERGED, PullRequestState.CLOSED]
    assert fake_github.not_modified - unchanged_before >= 4  # #1: its pull, reviews, check runs, status
    assert await deployment.pushed() == [{"open": 1, "merged": 1, "closed": 1}]
    # AND the next round reads only the one still open
    fake_github.requests.clear()
    assert scheduled() == {"refreshedJobs": 1}
    assert {"/".join(r.path.split("/")[2:4]) for r in fake_github.requests} == {"acme/one"}


async def test_refresh_and_bulk_actions_work_through_the_http_function(
    deployment: Deployment, fake_github: FakeGitHub
) -> None:
    # GIVEN #1 merged on GitHub, and #3's repository requiring an approving review to merge
    fake_github.merge_pull(1)
    fake_github.repos["acme/three"].required_approvals = 1
    job_id = deployment.job.id
    # WHEN refreshPullRequests is asked of the HTTP API THEN it answers with GitHub's state
    tally = (await deployment.graphql(REFRESH, {"id": job_id}))["refreshPullRequests"]["pullRequests"]
    assert tally == {"open": 2, "merged": 1, "closed": 0}
    # WHEN the job's pull requests are commented on, then merged, each in one call
    comment = await deployment.graphql(ACTION, {"id": job_id, "action": "COMMENT", "comment": "Ready to go"})
    merge = await deployment.graphql(ACTION, {"id": job_id, "action": "MERGE"})
    # THEN each pull request has its result: GitHub's refusal came back across the invoke with its reason
    assert [(r["number"], r["outcome"]) for r in comment["pullRequestAction"]] == [
        (1, "DONE"),
        (2, "DONE"),
        (3, "DONE"),
    ]
    merged = [(r["number"], r["outcome"]) for r in merge["pullRequestAction"]]
    assert merged == [(1, "SKIPPED"), (2, "DONE"), (3, "FAILED")]
    assert "approving review is required" in merge["pullRequestAction"][2]["message"]
    assert [c[:2] for c in fake_github.comments] == [("acme/one", 1), ("acme/two", 2), ("acme/three", 3)]
    assert [fake_github.pull(n).merged for n in (1, 2, 3)] == [True, True, False]
    assert deployment.pull_states() == [PullRequestState.MERGED, PullRequestState.MERGED, PullRequestState.OPEN]
    assert (await deployment.pushed())[-1] == {"open": 1, "merged": 2, "closed": 0}


async def test_refresh_works_over_the_websocket_api_too(deployment: Deployment, fake_github: FakeGitHub) -> None:
    # GIVEN #2 closed on GitHub, and a client on the WebSocket API (graphql-transport-ws carries mutations too)
    fake_github.close_pull(2)
    # WHEN it sends refreshPullRequests
    await deployment.subscriber.subscribe("m1", REFRESH, {"id": deployment.job.id})
    # THEN the answer is GitHub's state, read through the GitHub function
    (answer,) = [f for f in deployment.subscriber.frames if f.get("id") == "m1" and f["type"] == "next"]
    assert "errors" not in answer["payload"], answer
    assert answer["payload"]["data"]["refreshPullRequests"]["pullRequests"] == {"open": 2, "merged": 0, "closed": 1}
    assert deployment.pull_states() == [PullRequestState.OPEN, PullRequestState.CLOSED, PullRequestState.OPEN]

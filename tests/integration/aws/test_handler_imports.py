"""Each Lambda function's first invocation loads its own handler's stack and nothing heavier.

Each handler runs in a fresh interpreter, as a cold Lambda starts it: `server.lambdas` imported, one
event handled, then the modules it loaded and the domain models whose validators it built are
listed. The events need no AWS call (a settings query, a ping, a stream record that is no event),
so the lists are those of a cold start's own work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from server.aws.emulator.gateway_events import WebSocketPeer, http_event, message_event
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import BUCKET, TABLE

# Run in the fresh interpreter: argv[1] names the handler, stdin holds the event.
INVOKE = """
import json, sys
import server.lambdas
answer = getattr(server.lambdas, sys.argv[1])(json.load(sys.stdin), None)
from pydantic import BaseModel
models = sys.modules["core.models"]
built = sorted(name for name, value in vars(models).items()
               if isinstance(value, type) and issubclass(value, BaseModel) and value.__pydantic_complete__)
print(json.dumps({"answer": answer, "modules": sorted(sys.modules), "built": built}))
"""
# No function loads the worker, Claude, git, GitHub or the local server (import contracts keep them out
# of the code; this checks what a cold start really loads).
NEVER = ("worker", "anthropic", "git", "github", "uvicorn", "httpx", "server.cli", "server.web.app")
# Powertools' batch utility builds pydantic models of every batch source when pydantic is loaded first.
PARSER_MODELS = "aws_lambda_powertools.utilities.parser"
HTTP_ONLY = ("starlette", "mangum", "server.aws.http_app")
RARE = ("core.services.webhooks", "core.services.pull_request_actions", "strawberry.http.ides", "ulid")


def cold_invoke(handler: str, event: dict[str, Any], connections: FakeConnections) -> dict[str, Any]:
    """Invoke `server.lambdas.<handler>` once in a fresh interpreter configured as the stack configures it."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("CODY_BATCH_", "AWS_"))},
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "CODY_BATCH_BACKEND": "aws",
        "CODY_BATCH_TABLE": TABLE,
        "CODY_BATCH_BUCKET": BUCKET,
        "CODY_BATCH_WS_ENDPOINT": connections.url,
    }
    done = subprocess.run(
        [sys.executable, "-c", INVOKE, handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,  # a guard against a hang, never a speed limit
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    """Those of `modules` that are one of `names` or inside one of them."""
    return [module for module in modules if any(module == name or module.startswith(f"{name}.") for name in names)]


@pytest.fixture
def connections() -> Any:
    with FakeConnections() as fake:
        yield fake


def test_the_http_function_answers_without_powertools_or_other_handlers_code(connections: FakeConnections) -> None:
    # GIVEN API Gateway's event for a settings query
    body = json.dumps({"query": "{ settings { backend } }"}).encode()
    headers = [("host", "api.example.com"), ("content-type", "application/json")]
    event = http_event("POST", "/graphql", "", [], headers, body, "203.0.113.9")
    # WHEN a cold HTTP function handles it
    cold = cold_invoke("http_handler", event, connections)
    # THEN it answers the query
    assert cold["answer"]["statusCode"] == 200
    assert json.loads(cold["answer"]["body"]) == {"data": {"settings": {"backend": "aws"}}}
    # AND loaded neither Powertools nor the WebSocket and stream code, nor what only some requests use
    # (webhook deliveries, bulk pull-request actions, the GraphiQL page, new ids), and built no
    # domain model's validator
    modules = cold["modules"]
    assert loaded(modules, (*NEVER, "aws_lambda_powertools", "server.aws.websocket", "server.aws.stream")) == []
    assert loaded(modules, RARE) == []
    assert cold["built"] == []


def test_the_websocket_function_answers_a_ping_without_starlette_or_powertools_batch(
    connections: FakeConnections,
) -> None:
    # GIVEN a client's ping on an open socket
    event = message_event(WebSocketPeer("c1", "ws.example.com", "203.0.113.9", 0), json.dumps({"type": "ping"}))
    # WHEN a cold WebSocket function handles it
    cold = cold_invoke("websocket_handler", event, connections)
    # THEN the pong reaches the connection
    assert cold["answer"] == {"statusCode": 200}
    assert connections.sent("c1") == [{"type": "pong"}]
    # AND neither the HTTP app, Powertools' batch utility nor its parser models were loaded
    modules = cold["modules"]
    assert loaded(modules, (*NEVER, *HTTP_ONLY, "aws_lambda_powertools.utilities.batch", PARSER_MODELS)) == []


def test_the_stream_function_skips_a_job_update_without_powertools_parser_models(
    connections: FakeConnections,
) -> None:
    # GIVEN a stream record of a job item being updated (not an event INSERT)
    keys = {"pk": {"S": "JOB#J1"}, "sk": {"S": "JOB"}}
    record = {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": keys,
            "NewImage": {**keys, "item_type": {"S": "job"}},
            "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    # WHEN a cold stream function handles the batch
    cold = cold_invoke("stream_handler", {"Records": [record]}, connections)
    # THEN no record failed and nothing was sent
    assert cold["answer"] == {"batchItemFailures": []}
    assert connections.sent("c1") == []
    # AND it went through Powertools' batch processor without its parser models, Starlette or Mangum,
    # and built no domain model's validator
    modules = cold["modules"]
    assert "aws_lambda_powertools.utilities.batch" in modules
    assert loaded(modules, (*NEVER, *HTTP_ONLY, PARSER_MODELS)) == []
    assert cold["built"] == []

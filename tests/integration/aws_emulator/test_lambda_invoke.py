"""Lambda's Invoke API and an EventBridge schedule as the emulator stands them in, reached through boto3."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from starlette.applications import Starlette

from server.aws.emulator.gateway import LambdaFunction
from server.aws.emulator.lambda_invoke import LambdaInvokeApi
from server.aws.emulator.schedule import ScheduleRule
from tests.integration.cli.live_server import LiveServer

GUARD = 30  # seconds; a deadlock guard, never a speed assertion


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "function": context.function_name}


@pytest.fixture
def invoke_url() -> Iterator[str]:
    api = LambdaInvokeApi({"echo": LambdaFunction("echo", echo)})
    with LiveServer(Starlette(routes=api.routes())) as server:
        yield f"http://127.0.0.1:{server.port}"


def client(url: str) -> Any:
    return boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_a_synchronous_invoke_answers_with_the_handlers_result(invoke_url: str) -> None:
    # WHEN a function is invoked by name and by ARN
    lam = client(invoke_url)
    by_name = lam.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    by_arn = lam.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:echo", Payload=b"{}")
    # THEN each gets the handler's answer
    assert json.loads(by_name["Payload"].read()) == {"echo": {"a": 1}, "function": "echo"}
    assert json.loads(by_arn["Payload"].read())["echo"] == {}
    assert "FunctionError" not in by_name


def test_an_unhandled_error_is_a_function_error_and_an_unknown_function_is_not_found(invoke_url: str) -> None:
    lam = client(invoke_url)
    # WHEN the handler raises THEN Lambda's shape of it comes back, not an exception
    failed = lam.invoke(FunctionName="echo", Payload=json.dumps({"fail": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {"errorMessage": "asked to fail", "errorType": "ValueError"}
    # WHEN no such function exists THEN boto3 raises ResourceNotFoundException
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope", Payload=b"{}")


def test_an_unsigned_invoke_is_refused(invoke_url: str) -> None:
    # A page in a browser cannot sign a request: it must not run a function
    answer = httpx.post(f"{invoke_url}/2015-03-31/functions/echo/invocations", content=b"{}")
    assert answer.status_code == 403


def test_a_schedule_invokes_its_target_with_scheduled_events_until_stopped() -> None:
    # GIVEN a rule every 10 ms over a function that counts its events
    seen: list[dict[str, Any]] = []
    three = threading.Event()

    def target(event: dict[str, Any], context: Any) -> None:
        seen.append(event)
        if len(seen) >= 3:
            three.set()

    rule = ScheduleRule("refresh", LambdaFunction("target", target), 0.01)
    rule.start()
    # WHEN it has fired three times and is stopped
    assert three.wait(GUARD)
    rule.stop()
    fired = len(seen)
    # THEN each event was EventBridge's Scheduled Event for the rule, and none came after the stop
    assert {(e["source"], e["detail-type"]) for e in seen} == {("aws.events", "Scheduled Event")}
    assert seen[0]["resources"][0].endswith(":rule/refresh")
    rule.stop()
    assert len(seen) == fired

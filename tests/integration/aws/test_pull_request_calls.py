"""InvokedPullRequestHost: a PullRequestHost call across a Lambda invoke, and each way the invoke can fail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from core.errors import RunErrorKind, RunFailure
from core.models import PullRequestState, PullRequestStatus
from server.aws.emulator.gateway import LambdaFunction
from server.aws.emulator.lambda_invoke import LambdaInvokeApi
from server.aws.pull_request_calls import InvokedPullRequestHost, PullRequestCall, answer_call
from tests.fakes.pull_request_host import MemoryPullRequestHost
from tests.integration.aws.conftest import aws_client
from tests.integration.cli.live_server import LiveServer


@pytest.fixture
def host() -> MemoryPullRequestHost:
    memory = MemoryPullRequestHost()
    memory.set("acme/one", 1, PullRequestState.MERGED)
    return memory


@pytest.fixture
def invoke_url(host: MemoryPullRequestHost) -> Iterator[str]:
    """The GitHub function answering with `host`; `broken` raises; `garbled` answers what no call returns."""

    def github(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return answer_call(host, PullRequestCall.model_validate(event)).model_dump(mode="json")

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("token ghp_secret in a traceback")

    def garbled(event: dict[str, Any], context: Any) -> Any:
        return {"status": "merged, probably"}

    functions = {
        name: LambdaFunction(name, fn) for name, fn in {"github": github, "broken": broken, "garbled": garbled}.items()
    }
    with LiveServer(Starlette(routes=LambdaInvokeApi(functions).routes())) as server:
        yield f"http://127.0.0.1:{server.port}"


def test_a_status_and_a_write_go_through_and_a_hosts_failure_comes_back_as_itself(
    invoke_url: str, host: MemoryPullRequestHost
) -> None:
    remote = InvokedPullRequestHost(aws_client("lambda", invoke_url), "github")
    # WHEN a status is read and a comment written through the invoke
    status = remote.pull_request_status("acme/one", 1, None)
    remote.comment("acme/one", 1, "ping")
    # THEN they reached the host with their arguments
    assert status == PullRequestStatus(state=PullRequestState.MERGED)
    assert host.writes == [("comment", "acme/one", "ping")]
    # WHEN the host fails a call THEN the same kind and message are raised here
    host.failing[("acme/one", 1)] = "GitHub said no"
    with pytest.raises(RunFailure) as failed:
        remote.merge("acme/one", 1)
    assert "GitHub said no" in failed.value.message


@pytest.mark.parametrize(
    ("function", "kind", "words"),
    [
        ("broken", RunErrorKind.GITHUB_UNAVAILABLE, "the GitHub function failed: RuntimeError"),
        ("garbled", RunErrorKind.GITHUB_ERROR, "answer was not understood"),
        ("missing", RunErrorKind.GITHUB_UNAVAILABLE, "could not be invoked (ResourceNotFoundException)"),
    ],
)
def test_an_invoke_that_fails_is_a_run_failure_that_tells_no_secret(
    invoke_url: str, function: str, kind: RunErrorKind, words: str
) -> None:
    remote = InvokedPullRequestHost(aws_client("lambda", invoke_url), function)
    with pytest.raises(RunFailure) as failed:
        remote.pull_request_status("acme/one", 1, None)
    assert failed.value.kind is kind
    assert words in failed.value.message
    assert "ghp_secret" not in failed.value.message

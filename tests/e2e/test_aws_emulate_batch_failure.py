"""End to end on `cody-batch aws emulate`: a Batch child killed with SIGKILL in its second turn, outside
Batch's retry rules, is reported FAILED through the stack's EventBridge rule to `batch_handler`, which
resumes its run on a new Batch job; the job ends SUCCEEDED without asking the model for turn 1 again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from server.aws.emulator.moto_endpoint import MotoEndpoint
from tests.e2e.conftest import Server
from tests.e2e.test_aws_emulate import EMULATE, moto
from tests.fakes.anthropic_server import FakeAnthropic, tool_results
from tests.fakes.held_turn import PATIENCE, SecondTurnHeld

__all__ = ["moto"]  # the moto server fixture, lent to this module

RUN_QUERY = """query($id: ID!) {
  job(id: $id) { status repositories { status attempt resumptions { reason fromTurn cause } patch { diff } } }
}"""


def _wait(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; fail after a generous guard (never a speed assertion)."""
    deadline = time.monotonic() + 4 * PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen")
        time.sleep(0.2)


def _worker_processes(job_id: str) -> list[int]:
    """The `cody-batch worker run JOB_ID` processes on this machine (the emulator's Batch children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if b"worker" in argv and b"run" in argv and job_id.encode() in argv:
            found.append(int(entry.name))
    return found


def test_a_batch_child_killed_outside_the_retry_rules_is_resumed_by_the_rules_function_to_succeeded(
    serve: Callable[..., Server], make_repo: Callable[..., Path], moto: MotoEndpoint
) -> None:
    # GIVEN `aws emulate` on moto server and a fake Claude that edits in turn 1 and holds turn 2
    held = SecondTurnHeld()
    with FakeAnthropic() as fake:
        fake.script([held.step] * 4)
        try:
            server = serve(
                {"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url, "AWS_ENDPOINT_URL": moto.url},
                command=EMULATE,
            )
            created = server.graphql(
                "mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }",
                {"input": {"prompt": "Say hello", "repositories": [str(make_repo("greeter"))]}},
            )
            job_id = created["createJob"]["id"]
            _wait(lambda: any(tool_results(r) for r in fake.requests), "the second turn")
            # WHEN its Batch child is killed outright (as out of memory): Batch does not start it again
            (child,) = _worker_processes(job_id)
            os.kill(child, signal.SIGKILL)
            held.released.set()
            _wait(lambda: server.graphql(RUN_QUERY, {"id": job_id})["job"]["status"] == "SUCCEEDED", "SUCCEEDED")
        finally:
            held.released.set()
        requests = list(fake.requests)
    # THEN the run was resumed from turn 1 as the same attempt, the cause naming Batch's exit code
    (run,) = server.graphql(RUN_QUERY, {"id": job_id})["job"]["repositories"]
    assert run["status"] == "SUCCEEDED" and run["attempt"] == 1
    (resumption,) = run["resumptions"]
    assert (resumption["reason"], resumption["fromTurn"]) == ("RESUMED", 1)
    assert "exit code 137" in resumption["cause"]
    # AND turn 1 was asked once; the cut-off turn 2 was sent again
    assert sum(1 for r in requests if not tool_results(r)) == 1
    assert sum(1 for r in requests if tool_results(r)) == 2
    assert "+print('hello')" in run["patch"]["diff"]

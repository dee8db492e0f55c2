"""The demo endpoint: the recorded session edits the sample repository through the real agent loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from core.models import JobKind, Strategy
from core.settings import Settings
from server.demo.anthropic_replay import ReplayServer
from server.demo.endpoint import DEMO_API_KEY, DemoReplay, recorded_session, start_demo_endpoint, stop_demo_endpoints
from server.demo.samples import SAMPLE_FILES
from server.runtime.worker_config import model_endpoint
from tests.conftest import init_repo
from tests.unit.agent.conftest import MakeAgent, MakeRepo
from worker.agent.client import make_client
from worker.agent.prompts import build_system_prompt


@pytest.fixture
def demo_client() -> Iterator[anthropic.Anthropic]:
    with ReplayServer(DemoReplay(pace=0)) as server:
        yield anthropic.Anthropic(api_key=DEMO_API_KEY, base_url=server.url, max_retries=0)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "copy-of-sample", dict(SAMPLE_FILES))


def prompt(kind: JobKind = JobKind.CHANGE) -> str:
    return build_system_prompt(Strategy.GENERIC, kind, "hello-python", allow_commands=False)


def test_demo_session_modernises_the_sample_repository(
    demo_client: anthropic.Anthropic, sample: Path, make_agent: MakeAgent
) -> None:
    # GIVEN a repository with the sample's files and the demo endpoint
    harness = make_agent(sample, agent_client=demo_client, system_prompt=prompt())

    # WHEN the agent runs any instruction
    result = harness.agent.run("Modernise this code.")

    # THEN greeter.py was edited sensibly and still works, and the summary says what changed
    greeter = (sample / "greeter.py").read_text()
    assert "utcnow" not in greeter and "datetime.timezone.utc" in greeter
    assert 'f"Hello, {name}"' in greeter
    check = "from greeter import greet, log_line; assert greet('Ada', True) == 'Hello, Ada!'; "
    check += "assert log_line('x').endswith('] x')"
    subprocess.run([sys.executable, "-c", check], cwd=sample, check=True)
    assert result.summary.startswith("Modernized `greeter.py`")
    assert result.turns == len(recorded_session()["change"])
    assert result.usage.cost_usd > 0 and result.usage.cache_read_tokens > 0


def test_demo_on_another_repository_says_it_only_knows_the_sample(
    demo_client: anthropic.Anthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a repository that is not the sample
    repo = make_repo("other", {"main.go": "package main\n"})
    harness = make_agent(repo, agent_client=demo_client, system_prompt=prompt())

    # WHEN the agent runs
    result = harness.agent.run("Modernise this code.")

    # THEN the replay stops with a plain explanation and changed nothing
    assert "only knows the sample repository" in result.summary
    assert (repo / "main.go").read_text() == "package main\n"
    assert result.turns == 2


def test_demo_analysis_reports_without_editing(
    demo_client: anthropic.Anthropic, sample: Path, make_agent: MakeAgent
) -> None:
    # GIVEN an ANALYZE job on the sample
    harness = make_agent(sample, agent_client=demo_client, system_prompt=prompt(JobKind.ANALYZE), read_only=True)

    # WHEN the agent runs THEN the report names the deprecated call and no file changed
    result = harness.agent.run("Find deprecated calls.")
    assert "utcnow" in result.summary and "recorded demo session" in result.summary
    assert (sample / "greeter.py").read_text() == SAMPLE_FILES["greeter.py"]


def test_a_fix_round_after_the_recording_ends_gets_a_final_answer(
    demo_client: anthropic.Anthropic, sample: Path, make_agent: MakeAgent
) -> None:
    # GIVEN a finished demo run
    harness = make_agent(sample, agent_client=demo_client, system_prompt=prompt())
    harness.agent.run("Modernise this code.")

    # WHEN the pipeline sends a fix round THEN the replay answers that it has no more steps
    assert "no further steps" in harness.agent.run("The check failed.").summary


def test_start_demo_endpoint_points_workers_at_the_replay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN a real-looking key in the environment (restored after the test)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real-key-must-not-be-used")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
    settings = Settings(data_dir=tmp_path / "data")

    # WHEN the demo endpoint starts
    url = start_demo_endpoint(settings, pace=0)
    try:
        # THEN workers inherit its URL and a dummy key, and a client built from fresh settings reaches it
        assert url.startswith("http://127.0.0.1:")
        assert os.environ["ANTHROPIC_BASE_URL"] == url
        assert os.environ["ANTHROPIC_API_KEY"] == DEMO_API_KEY
        assert settings.demo and settings.anthropic_base_url == url
        reply = make_client(model_endpoint(Settings())).messages.create(
            model="claude-sonnet-5-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.stop_reason == "tool_use"
    finally:
        stop_demo_endpoints()


@pytest.mark.parametrize("body", [b"", b'{"model": "claude'], ids=["headers only", "half a body"])
def test_a_request_cut_off_by_its_client_is_neither_recorded_nor_answered(body: bytes) -> None:
    # GIVEN the replay endpoint
    with ReplayServer(DemoReplay(pace=0)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        # WHEN a client sends a request's headers (and part of its body) and goes away, as a killed worker does
        with socket.create_connection((host, int(port))) as client:
            head = f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\n"
            client.sendall(head.encode() + body)
            client.shutdown(socket.SHUT_WR)
            # THEN the endpoint closes the connection without an answer
            assert client.recv(4096) == b""
        # AND records no request (an empty one would be refused as a request without a model)
        assert server.requests == []

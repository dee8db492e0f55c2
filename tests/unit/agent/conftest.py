"""Agent fixtures: the fake Messages API over HTTP, a real SDK client on it, agents on real repos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import pytest

from core.models import Thread
from core.settings import DEFAULT_MODEL, DEFAULT_PRICES
from tests.fakes.anthropic_server import FakeAnthropic
from worker.agent.loop import Agent, AgentConfig

TEST_KEY = "sk-ant-test-0123456789abcdef"
MakeRepo = Callable[..., Path]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=TEST_KEY, base_url=fake.url, max_retries=4, timeout=30)


def agent_config(**overrides: Any) -> AgentConfig:
    """A config with generous limits unless a test narrows one."""
    values: dict[str, Any] = {
        "model": DEFAULT_MODEL,
        "system_prompt": "You are a test agent.",
        "max_turns": 20,
        "max_tokens_per_call": 4096,
        "max_run_tokens": 1_000_000,
        "max_cost_usd": 5.0,
        "max_wall_seconds": 120.0,
        "prices": DEFAULT_PRICES,
        **overrides,
    }
    return AgentConfig(**values)


@dataclass
class Harness:
    """An agent plus what it reported: every saved thread snapshot and cancellation checks."""

    agent: Agent
    saved: list[Thread] = field(default_factory=list)
    checks: int = 0


@pytest.fixture
def make_agent(client: anthropic.Anthropic) -> Callable[..., Harness]:
    def make(workspace: Path, agent_client: anthropic.Anthropic | None = None, **overrides: Any) -> Harness:
        thread = Thread(run_id="run-1", model=DEFAULT_MODEL)
        holder: dict[str, Harness] = {}

        def on_turn(current: Thread) -> None:
            holder["h"].saved.append(current.model_copy(deep=True))

        def check_cancelled() -> None:
            holder["h"].checks += 1

        agent = Agent(agent_client or client, agent_config(**overrides), workspace, thread, on_turn, check_cancelled)
        holder["h"] = Harness(agent)
        return holder["h"]

    return make


MakeAgent = Callable[..., Harness]

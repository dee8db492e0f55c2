"""Prompt-caching breakpoints, the fake's cache accounting, prompts, the client and the default model."""

from __future__ import annotations

import json
import re
import typing
from importlib import metadata
from typing import Any

import anthropic
import pytest
from anthropic._data import DEPRECATED_MODELS
from anthropic.types.model_param import ModelParam
from packaging.requirements import Requirement
from pydantic import SecretStr

from core.errors import ConfigurationError
from core.models import JobKind, Strategy
from core.settings import DEFAULT_MODEL
from server.demo.anthropic_replay import CacheMeter
from tests.fakes.anthropic_server import FakeAnthropic, text_turn, tool_turn, view
from tests.unit.agent.conftest import MakeAgent, MakeRepo
from worker.agent.client import MAX_RETRIES, make_client
from worker.agent.prompts import build_system_prompt
from worker.run_config import ModelEndpoint


def breakpoints(body: dict[str, Any]) -> int:
    return json.dumps(body).count('"cache_control"')


def test_requests_carry_at_most_four_breakpoints_on_tools_system_and_last_message(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a three-turn run with commands on (two tools)
    fake.script([tool_turn(view("app.py")), tool_turn(view("README.md")), text_turn("Done.")])
    harness = make_agent(make_repo(), allow_commands=True)

    # WHEN it runs
    harness.agent.run("Look.")

    # THEN every request marks the last tool, the system block and only the last message
    for request in fake.requests:
        body = request.body
        assert breakpoints(body) == 3
        assert "cache_control" in body["tools"][-1] and "cache_control" not in body["tools"][0]
        assert "cache_control" in body["system"][0]
        assert "cache_control" in body["messages"][-1]["content"][-1]
    # and the marks are not stored in the thread
    assert "cache_control" not in json.dumps([m.content for m in harness.saved[-1].messages])


def test_later_turns_read_earlier_turns_from_the_cache(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a multi-turn run
    fake.script([tool_turn(view("app.py")), tool_turn(view("README.md")), text_turn("Done.")])
    harness = make_agent(make_repo())

    # WHEN it runs
    harness.agent.run("Look.")

    # THEN the first turn writes the cache and the later ones read it
    usages = [m.usage for m in harness.saved[-1].messages if m.usage is not None]
    assert usages[0].cache_read_tokens == 0 and usages[0].cache_write_tokens > 0
    assert all(u.cache_read_tokens > 0 for u in usages[1:])
    assert usages[2].cache_read_tokens > usages[1].cache_read_tokens


def test_caching_can_be_turned_off(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN prompt caching disabled
    fake.script([tool_turn(view("app.py")), text_turn("Done.")])
    harness = make_agent(make_repo(), prompt_caching=False)

    # WHEN it runs THEN no request has a breakpoint and nothing is read from the cache
    harness.agent.run("Look.")
    assert all(breakpoints(request.body) == 0 for request in fake.requests)
    assert harness.saved[-1].usage.cache_read_tokens == 0


def test_cache_meter_counts_read_write_and_input() -> None:
    # GIVEN a request with a breakpoint after the system block and more content after it
    meter = CacheMeter()
    system = [{"type": "text", "text": "S" * 400, "cache_control": {"type": "ephemeral"}}]
    body = {"system": system, "messages": [{"role": "user", "content": "U" * 400}]}

    # WHEN it is measured twice
    first, second = meter.usage(body, []), meter.usage(body, [])

    # THEN the prefix is written once, read the second time, and the rest is input both times
    assert first["cache_creation_input_tokens"] > 0 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    assert first["input_tokens"] == second["input_tokens"] > 0


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_has_a_template(strategy: Strategy) -> None:
    # WHEN building the prompt of each strategy
    prompt = build_system_prompt(strategy, JobKind.CHANGE, "acme/widgets", allow_commands=False)

    # THEN it names the repository, has no unfilled placeholder, and offers no shell
    assert "`acme/widgets`" in prompt
    assert "$" not in prompt
    assert "No command tool" in prompt


def test_prompts_differ_by_strategy_kind_and_commands() -> None:
    # WHEN building prompts for different jobs
    bugfix = build_system_prompt(Strategy.BUGFIX, JobKind.CHANGE, "r", allow_commands=True)
    docs = build_system_prompt(Strategy.DOCS, JobKind.CHANGE, "r", allow_commands=True)
    analyze = build_system_prompt(Strategy.BUGFIX, JobKind.ANALYZE, "r", allow_commands=True)

    # THEN the guidance follows the strategy, analyses are read-only, and bash appears when allowed
    assert "root cause" in bugfix and "root cause" not in docs
    assert "read-only analysis" in analyze and "`bash`" not in analyze
    assert "`bash`" in bugfix


def test_make_client_uses_key_base_url_and_bounded_retries(fake: FakeAnthropic) -> None:
    # GIVEN the key the fake accepts and the fake's URL
    fake.script([text_turn("pong")])
    endpoint = ModelEndpoint(api_key=SecretStr(fake.api_key), base_url=fake.url)

    # WHEN a client is made and used
    client = make_client(endpoint)
    reply = client.messages.create(model=DEFAULT_MODEL, max_tokens=10, messages=[{"role": "user", "content": "ping"}])

    # THEN it reached the fake, which checks the key header, with the key in a header (not the URL)
    assert reply.content[0].type == "text" and fake.rejected == []
    assert fake.api_key not in fake.url
    assert client.max_retries == MAX_RETRIES


def test_make_client_without_a_key_is_a_configuration_error() -> None:
    # GIVEN no API key WHEN making a client THEN a clear configuration error
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        make_client(ModelEndpoint(api_key=None))


def _sonnet_version(model: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"claude-sonnet-(\d+)(?:-(\d))?", model)
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def test_default_model_is_the_newest_current_sonnet_of_the_sdk() -> None:
    # GIVEN the models the pinned SDK knows, without the deprecated ones and dated aliases
    literal = next(arg for arg in typing.get_args(ModelParam) if typing.get_origin(arg) is typing.Literal)
    current = [m for m in typing.get_args(literal) if m not in DEPRECATED_MODELS]
    sonnets = {m: v for m in current if (v := _sonnet_version(m)) is not None}

    # THEN the default is the newest of them (this fails when the SDK moves on)
    assert sonnets, "the SDK lists no current Sonnet model"
    assert max(sonnets, key=lambda m: sonnets[m]) == DEFAULT_MODEL
    # AND the SDK the check ran against is one the project's pin admits
    pin = next(Requirement(r) for r in metadata.requires("cody-batch") or [] if Requirement(r).name == "anthropic")
    assert pin.specifier.contains(anthropic.__version__), (anthropic.__version__, str(pin))

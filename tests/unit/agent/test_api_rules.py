"""Requests the real Messages API would refuse: the fake refuses them too, and the agent never sends them."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic_rules import InvalidRequest, check_request
from tests.fakes.anthropic_server import FakeAnthropic, bash, pause, text_turn, tool_turn, view
from tests.unit.agent.conftest import MakeAgent, MakeRepo
from worker.agent.text_editor import MAX_VIEW_CHARS

EPHEMERAL = {"type": "ephemeral"}
EDITOR_TOOL = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


def valid_body() -> dict[str, Any]:
    """A request the API accepts: a tool call answered by its result."""
    return {
        "model": "claude-sonnet-5-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}],
        "tools": [{**EDITOR_TOOL, "max_characters": 10_000, "cache_control": EPHEMERAL}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Fix it."}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Looking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "str_replace_based_edit_tool", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok", "cache_control": EPHEMERAL}
                ],
            },
        ],
    }


def test_the_baseline_request_is_accepted() -> None:
    check_request(valid_body())  # raises if not


def _five_breakpoints(body: dict[str, Any]) -> None:
    body["messages"][0]["content"][0]["cache_control"] = EPHEMERAL
    body["messages"][1]["content"][0]["cache_control"] = EPHEMERAL


def _empty_assistant_before_the_end(body: dict[str, Any]) -> None:
    body["messages"] += [{"role": "assistant", "content": []}, {"role": "user", "content": "Go on."}]


def _unanswered_tool_use(body: dict[str, Any]) -> None:
    body["messages"][2]["content"] = [{"type": "text", "text": "never mind"}]


def _result_for_another_call(body: dict[str, Any]) -> None:
    body["messages"][2]["content"].append({"type": "tool_result", "tool_use_id": "toolu_9", "content": "?"})


def _text_before_tool_result(body: dict[str, Any]) -> None:
    body["messages"][2]["content"].insert(0, {"type": "text", "text": "Here:"})


def _trailing_whitespace_in_final_assistant(body: dict[str, Any]) -> None:
    body["messages"].append({"role": "assistant", "content": [{"type": "text", "text": "Working... "}]})


def _cache_control_on_thinking(body: dict[str, Any]) -> None:
    block = {"type": "thinking", "thinking": "hm", "signature": "sig", "cache_control": EPHEMERAL}
    body["messages"][1]["content"].insert(0, block)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_five_breakpoints, "A maximum of 4 blocks with cache_control may be provided. Found 5."),
        (lambda b: b["messages"][1]["content"].__setitem__(0, {"type": "text", "text": ""}), "must be non-empty"),
        (lambda b: b["messages"][1]["content"].__setitem__(0, {"type": "text", "text": "\n\n"}), "non-whitespace"),
        (_empty_assistant_before_the_end, "all messages must have non-empty content"),
        (_unanswered_tool_use, "without `tool_result` blocks immediately after"),
        (_result_for_another_call, "unexpected `tool_use_id`"),
        (_text_before_tool_result, "must come first"),
        (_trailing_whitespace_in_final_assistant, "cannot end with trailing whitespace"),
        (_cache_control_on_thinking, "cache_control cannot be set on thinking"),
        (lambda b: b["tools"][0].update(name="editor"), "Input should be 'str_replace_based_edit_tool'"),
        (lambda b: b["tools"][0].update(max_characters=0), "greater than or equal to 1"),
        (lambda b: b["tools"].append({"type": "bash_20250124", "name": "bash", "max_characters": 5}), "Extra inputs"),
        (lambda b: b["tools"].append({"name": "lint", "description": "Lint."}), "input_schema: Field required"),
        (lambda b: b.update(max_tokens=0), "max_tokens"),
        (lambda b: b.update(temprature=0.5), "temprature: Extra inputs are not permitted"),
    ],
)
def test_what_the_api_refuses_the_fake_refuses(change: Any, message: str) -> None:
    # GIVEN a valid request changed in one way the real API rejects
    body = copy.deepcopy(valid_body())
    change(body)
    # WHEN the fake checks it / THEN it is refused with the API's wording
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        check_request(body)


def test_a_refused_request_is_a_400_that_consumes_no_script_step(fake: FakeAnthropic) -> None:
    import anthropic

    # GIVEN a scripted reply and a client
    fake.script([text_turn("Hello.")])
    client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url, max_retries=0)
    fake.expect_refusal("text content blocks must be non-empty")
    # WHEN a request with an empty text block is sent
    with pytest.raises(anthropic.BadRequestError, match="non-empty"):
        client.messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]
        )
    # THEN the reply is still there for the next, valid request
    assert fake.remaining == 1 and fake.rejected


VERSION = {"anthropic-version": "2023-06-01"}


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({**VERSION}, 401, "x-api-key header is required"),
        ({**VERSION, "x-api-key": "sk-wrong"}, 401, "invalid x-api-key"),
        ({**VERSION, "authorization": "Bearer sk-wrong"}, 401, "invalid x-api-key"),
        ({**VERSION, "authorization": "Basic {key}"}, 401, "x-api-key header is required"),
        ({"x-api-key": "{key}"}, 400, "anthropic-version: header is required"),
        ({"x-api-key": "{key}", "anthropic-version": "1999-01-01"}, 400, "anthropic-version: invalid version"),
    ],
    ids=["no key", "wrong x-api-key", "wrong bearer", "other scheme", "no version", "unknown version"],
)
def test_the_fake_refuses_requests_without_the_key_or_the_version(
    fake: FakeAnthropic, headers: dict[str, str], status: int, reason: str
) -> None:
    # GIVEN a scripted reply, and a request whose headers lack the key or the API version
    fake.script([text_turn("Hello.")]).expect_refusal(reason)
    sent = {name: value.format(key=fake.api_key) for name, value in headers.items()}
    # WHEN it is sent
    response = httpx.post(f"{fake.url}/v1/messages", json=valid_body(), headers=sent)
    # THEN it is refused as the API refuses it, and the reply is kept for a valid request
    assert response.status_code == status and reason in response.json()["error"]["message"]
    assert fake.remaining == 1


@pytest.mark.parametrize(
    "headers", [{"x-api-key": "{key}"}, {"authorization": "Bearer {key}"}], ids=["x-api-key", "bearer"]
)
def test_the_fake_accepts_the_key_in_either_form_the_sdk_sends(fake: FakeAnthropic, headers: dict[str, str]) -> None:
    fake.script([text_turn("Hello.")])
    sent = {**VERSION, **{name: value.format(key=fake.api_key) for name, value in headers.items()}}
    response = httpx.post(f"{fake.url}/v1/messages", json=valid_body(), headers=sent)
    assert response.status_code == 200 and fake.rejected == []


def test_leaving_the_fake_fails_on_a_refusal_the_test_did_not_declare() -> None:
    # GIVEN a fake that refused a request nobody declared
    fake = FakeAnthropic().__enter__()
    httpx.post(f"{fake.url}/v1/messages", json=valid_body(), headers=VERSION)
    # WHEN the test leaves it THEN that is a failure naming the refusal
    with pytest.raises(AssertionError, match=r"did not expect.*x-api-key header is required"):
        fake.__exit__(None, None, None)


def test_leaving_the_fake_fails_when_a_declared_refusal_never_happened() -> None:
    fake = FakeAnthropic().__enter__().expect_refusal("max_tokens")
    with pytest.raises(AssertionError, match=r"never refused.*max_tokens"):
        fake.__exit__(None, None, None)


# -- the agent's requests ------------------------------------------------------------------------


def test_an_empty_reply_after_tool_results_is_asked_to_go_on_and_never_echoed(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN Claude answering a tool result with nothing (end_turn, no content), as the API sometimes does
    repo = make_repo("empty", {"app.py": "x = 1\n"})
    fake.script(
        [
            tool_turn(view("app.py")),
            {"content": [], "stop_reason": "end_turn"},
            text_turn("Nothing to change."),
            text_turn("Checked again: still fine."),
        ]
    )
    harness = make_agent(repo)

    # WHEN the agent runs, and then is given feedback (as after a failed validation)
    first = harness.agent.run("Check app.py.")
    second = harness.agent.run("The checks failed; look again.")

    # THEN Claude was asked to continue, every request was accepted, and the summaries are Claude's words
    assert fake.rejected == []
    assert first.summary == "Nothing to change." and second.summary == "Checked again: still fine."
    nudge = fake.requests[2].body["messages"][-1]["content"]
    assert [b["type"] for b in nudge] == ["tool_result", "text"] and nudge[-1]["text"] == "Please continue."
    # AND the empty reply stays on record in the thread (it was billed)
    assert any(m.role == "assistant" and m.content == [] for m in harness.saved[-1].messages)


def test_a_second_empty_reply_ends_the_run(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    repo = make_repo("quiet", {"app.py": "x = 1\n"})
    fake.script([{"content": [], "stop_reason": "end_turn"}, {"content": [], "stop_reason": "end_turn"}])
    result = make_agent(repo).agent.run("Anything?")
    assert result.summary == "" and fake.remaining == 0 and fake.rejected == []


def test_whitespace_text_before_a_tool_call_is_not_echoed(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a reply whose text block is only a newline before its tool call
    repo = make_repo("ws", {"app.py": "x = 1\n"})
    fake.script([{"content": [{"type": "text", "text": "\n\n"}, view("app.py")], "stop_reason": "tool_use"}])
    fake.script([text_turn("Done.")])
    # WHEN the agent runs / THEN the next request is accepted, and the thread keeps the reply as given
    result = make_agent(repo).agent.run("Look.")
    assert result.summary == "Done." and fake.rejected == []
    assert fake.requests[1].body["messages"][1]["content"][0]["type"] == "tool_use"


def test_a_paused_turn_is_sent_back_without_trailing_whitespace(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a pause_turn whose text ends in whitespace
    repo = make_repo("pause", {"app.py": "x = 1\n"})
    fake.script([pause("Working on it.\n"), text_turn("Finished.")])
    # WHEN the agent continues it / THEN the continuation (assistant last) is accepted
    result = make_agent(repo).agent.run("Go.")
    assert result.summary == "Finished." and fake.rejected == []
    sent = fake.requests[1].body["messages"]
    assert sent[-1]["role"] == "assistant" and sent[-1]["content"][-1]["text"] == "Working on it."


def test_tool_definitions_are_what_the_api_accepts(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN an agent offered both Anthropic-defined tools
    repo = make_repo("tools", {"app.py": "x = 1\n"})
    fake.script([tool_turn(bash("true")), text_turn("Done.")])
    make_agent(repo, allow_commands=True).agent.run("Run it.")
    # THEN the definitions name the tools as the API requires, and say how much a view shows
    tools = fake.requests[0].body["tools"]
    assert [(t["type"], t["name"]) for t in tools] == [
        ("text_editor_20250728", "str_replace_based_edit_tool"),
        ("bash_20250124", "bash"),
    ]
    assert tools[0]["max_characters"] == MAX_VIEW_CHARS and fake.rejected == []

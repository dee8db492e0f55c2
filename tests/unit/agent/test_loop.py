"""The agent loop against the fake Messages API, through the real SDK, on real repositories."""

from __future__ import annotations

import pytest

from core.errors import RunCancelled
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    edit,
    pause,
    refusal,
    text_turn,
    tool_results,
    tool_turn,
    truncated_tool_call,
    view,
)
from tests.unit.agent.conftest import MakeAgent, MakeRepo
from worker.agent.errors import ModelRefused, OutputTruncated


def test_agent_edits_a_real_repository_and_records_the_thread(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a repository and Claude scripted to view a file, edit it and summarise
    repo = make_repo("greet", {"app.py": "print('hi')\n"})
    fake.script(
        [
            tool_turn(view("app.py"), text="Let me look."),
            lambda request: tool_turn(
                edit("str_replace", "app.py", old_str="'hi'", new_str="'hello'")
                if "print('hi')" in tool_results(request)[0]["content"]
                else view("missing.py")
            ),
            text_turn("Changed the greeting to hello."),
        ]
    )
    harness = make_agent(repo)

    # WHEN the agent runs the task
    result = harness.agent.run("Say hello instead of hi.")

    # THEN the file is edited, the summary is Claude's final text, and the thread is exact
    assert (repo / "app.py").read_text() == "print('hello')\n"
    assert result.summary == "Changed the greeting to hello."
    assert result.stop_reason == "end_turn"
    assert result.turns == 3
    thread = harness.saved[-1]
    assert [m.role for m in thread.messages] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert thread.messages[1].content[1]["name"] == "str_replace_based_edit_tool"
    assert thread.messages[2].content[0]["type"] == "tool_result"
    assert thread.usage.output_tokens > 0 and thread.usage.cost_usd > 0
    assert result.usage == thread.usage
    assert len(harness.saved) == 3  # one save per turn
    assert harness.checks == 3  # cancellation checked before every turn


def test_stop_sequence_ends_the_run_like_end_turn(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN Claude stopping on a stop sequence
    fake.script([text_turn("Nothing to do.", stop_reason="stop_sequence")])
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Check the repo.")

    # THEN its text is the summary
    assert (result.summary, result.stop_reason) == ("Nothing to do.", "stop_sequence")


def test_refusal_raises_model_refused_and_keeps_the_thread(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN Claude refusing
    fake.script([refusal("I won't do that.")])
    harness = make_agent(make_repo())

    # WHEN the agent runs THEN ModelRefused carries the explanation, and the turn was saved
    with pytest.raises(ModelRefused, match="I won't do that") as raised:
        harness.agent.run("Do something bad.")
    assert raised.value.kind == "REFUSAL"
    assert harness.saved[-1].messages[-1].stop_reason == "refusal"


def test_max_tokens_mid_tool_call_never_runs_the_truncated_call(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN Claude cut off by max_tokens in the middle of a create call
    repo = make_repo("cut", {"app.py": "x = 1\n"})
    fake.script(
        [
            truncated_tool_call(edit("create", "app.py", file_text="x = 2\n# half a fi")),
            lambda request: text_turn("Stopping. " + tool_results(request)[0]["content"]),
        ]
    )
    harness = make_agent(repo)

    # WHEN the agent runs
    result = harness.agent.run("Rewrite app.py.")

    # THEN the file is unchanged and Claude was told the call was not executed
    assert (repo / "app.py").read_text() == "x = 1\n"
    answer = tool_results(fake.requests[1])[0]
    assert answer["is_error"] is True
    assert "NOT executed" in answer["content"]
    assert "smaller steps" in result.summary


def test_max_tokens_in_text_asks_claude_to_continue(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a reply cut off in plain text
    fake.script([text_turn("The change is", stop_reason="max_tokens"), text_turn("complete.")])
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Explain.")

    # THEN it asked Claude to continue, and finished with the next reply
    last_user = fake.requests[1].body["messages"][-1]
    assert last_user["role"] == "user"
    assert "cut off by the max_tokens limit" in last_user["content"][-1]["text"]
    assert result.summary == "complete."


def test_repeated_truncation_is_bounded(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN Claude always cut off
    fake.script([text_turn("and", stop_reason="max_tokens") for _ in range(10)])
    harness = make_agent(make_repo())

    # WHEN the agent runs THEN it gives up after a few continuations
    with pytest.raises(OutputTruncated):
        harness.agent.run("Talk.")
    assert len(fake.requests) == 4


def test_pause_turn_sends_the_reply_back_to_continue(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a paused turn
    fake.script([pause("Thinking it over"), text_turn("Done.")])
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Go.")

    # THEN the paused assistant reply is the last message of the next request, unchanged
    second = fake.requests[1].body["messages"]
    assert second[-1]["role"] == "assistant"
    assert second[-1]["content"][0]["text"] == "Thinking it over"
    assert result.summary == "Done."


def test_a_second_run_continues_the_same_thread(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN an agent that already finished once
    fake.script([text_turn("First."), text_turn("Fixed the failing check.")])
    harness = make_agent(make_repo())
    harness.agent.run("Do it.")

    # WHEN it is run again with a fix-round task
    result = harness.agent.run("The check failed: fix it.")

    # THEN the second request carries the whole conversation
    roles = [m["role"] for m in fake.requests[1].body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert result.summary == "Fixed the failing check."
    assert result.turns == 2


def test_cancellation_between_turns_stops_the_loop(fake: FakeAnthropic, make_repo: MakeRepo, client: object) -> None:
    # GIVEN a run cancelled after its first turn
    from core.models import Thread
    from tests.unit.agent.conftest import agent_config
    from worker.agent.loop import Agent

    fake.script([tool_turn(view("app.py")), text_turn("never sent")])
    calls = []

    def check_cancelled() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise RunCancelled("cancelled")

    agent = Agent(client, agent_config(), make_repo(), Thread(run_id="r", model="m"), lambda t: None, check_cancelled)  # type: ignore[arg-type]

    # WHEN it runs THEN RunCancelled propagates and no second request is made
    with pytest.raises(RunCancelled):
        agent.run("Go.")
    assert len(fake.requests) == 1

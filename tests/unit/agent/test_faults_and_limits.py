"""API faults (retried by the SDK, or failing fast) and the loop's limits, each an exception."""

from __future__ import annotations

import anthropic
import pytest

from server.demo.anthropic_replay import estimate_tokens
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    edit,
    fault,
    overloaded,
    prompt_too_long,
    rate_limited,
    server_error,
    slow,
    text_turn,
    tool_turn,
    view,
)
from tests.unit.agent.conftest import TEST_KEY, MakeAgent, MakeRepo
from worker.agent.caching import TRIMMED_STUB
from worker.agent.errors import BudgetExceeded, ContextOverflow, ModelUnavailable, TurnLimitReached, WallTimeExceeded


def retry_counts(fake: FakeAnthropic) -> list[str]:
    return [request.headers.get("x-stainless-retry-count", "?") for request in fake.requests]


def test_overloaded_twice_then_success(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN the API overloaded (529) for two attempts
    fake.script([overloaded(), overloaded(), text_turn("Done.")])
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Go.")

    # THEN the SDK retried the same request twice and the run succeeded
    assert result.summary == "Done."
    assert retry_counts(fake) == ["0", "1", "2"]
    assert fake.requests[0].body == fake.requests[2].body


def test_rate_limit_retry_after_is_honoured(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN a 429 asking to wait 1 s (the SDK's own first backoff would be at most 0.5 s)
    fake.script([rate_limited(retry_after=1), text_turn("Done.")])
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Go.")

    # THEN one retry happened, no sooner than the server asked
    assert result.summary == "Done."
    assert retry_counts(fake) == ["0", "1"]
    assert fake.requests[1].at - fake.requests[0].at >= 1.0


def test_server_error_and_slow_reply_are_retried(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a 500, then a reply slower than the client's timeout, then a good reply
    fake.script([server_error(), slow(text_turn("too late"), seconds=1.5), text_turn("Done.")])
    impatient = anthropic.Anthropic(api_key=TEST_KEY, base_url=fake.url, max_retries=4, timeout=0.5)
    harness = make_agent(make_repo(), agent_client=impatient)

    # WHEN the agent runs
    result = harness.agent.run("Go.")

    # THEN both faults were retried and the good reply was used
    assert result.summary == "Done."
    assert retry_counts(fake) == ["0", "1", "2"]


def test_persistent_overload_fails_as_model_unavailable_after_bounded_retries(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN an API that stays overloaded
    fake.script([overloaded() for _ in range(10)])
    harness = make_agent(make_repo())

    # WHEN the agent runs THEN it gives up after the SDK's bounded retries (1 + 4)
    with pytest.raises(ModelUnavailable, match="529") as raised:
        harness.agent.run("Go.")
    assert raised.value.kind == "MODEL_ERROR"
    assert len(fake.requests) == 5


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (fault(401, "authentication_error", "invalid x-api-key"), "rejected the API key"),
        (fault(400, "invalid_request_error", "Your credit balance is too low"), "cannot pay"),
        (fault(403, "permission_error", "not allowed"), "may not use"),
    ],
)
def test_auth_and_billing_errors_fail_fast(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent, answer: dict[str, object], message: str
) -> None:
    # GIVEN an API that refuses the key or the account
    fake.script([answer, text_turn("never")])
    harness = make_agent(make_repo())

    # WHEN the agent runs THEN it fails at once with a clear message, without retrying
    with pytest.raises(ModelUnavailable, match=message):
        harness.agent.run("Go.")
    assert len(fake.requests) == 1


def test_prompt_too_long_trims_old_tool_results_once_and_retries(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN two turns of tool output, then a prompt that no longer fits
    repo = make_repo("big", {"a.py": "A = 1\n" * 50, "b.py": "B = 2\n"})
    fake.script([tool_turn(view("a.py")), tool_turn(view("b.py")), prompt_too_long(), text_turn("Done.")])
    harness = make_agent(repo)

    # WHEN the agent runs
    result = harness.agent.run("Look around.")

    # THEN the retry carried the old tool result as a stub, the latest one intact
    assert result.summary == "Done."
    retried = fake.requests[3].body["messages"]
    assert retried[2]["content"][0]["content"] == TRIMMED_STUB
    assert "B = 2" in retried[4]["content"][0]["content"]
    assert harness.saved[-1].messages[2].content[0]["content"] == TRIMMED_STUB


def test_context_overflow_when_trimming_is_not_enough(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a prompt too long even after trimming
    fake.script([tool_turn(view("app.py")), tool_turn(view("README.md"))] + [prompt_too_long()] * 3)
    harness = make_agent(make_repo())

    # WHEN the agent runs THEN ContextOverflow after exactly one trimmed retry
    with pytest.raises(ContextOverflow) as raised:
        harness.agent.run("Go.")
    assert raised.value.kind == "CONTEXT_OVERFLOW"
    assert len(fake.requests) == 4
    assert fake.requests[3].body["messages"][2]["content"][0]["content"] == TRIMMED_STUB


def test_context_window_exceeded_stop_reason_trims_and_retries(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a reply stopped because the context window filled up
    fake.script(
        [
            tool_turn(view("app.py")),
            tool_turn(view("README.md")),
            text_turn("partial", stop_reason="model_context_window_exceeded"),
            text_turn("Done."),
        ]
    )
    harness = make_agent(make_repo())

    # WHEN the agent runs
    result = harness.agent.run("Go.")

    # THEN the partial reply was dropped, its cost kept, and the retry was trimmed
    assert result.summary == "Done."
    assert fake.requests[3].body["messages"][2]["content"][0]["content"] == TRIMMED_STUB
    assert all(block.get("text") != "partial" for m in harness.saved[-1].messages for block in m.content)
    last_usage = harness.saved[-1].messages[-1].usage
    assert last_usage is not None
    assert last_usage.output_tokens == estimate_tokens([{"type": "text", "text": "partial"}]) + estimate_tokens(
        [{"type": "text", "text": "Done."}]
    )


def test_cost_budget_exceeded_records_the_usage(
    fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent
) -> None:
    # GIVEN a run budget smaller than one turn costs
    fake.script([tool_turn(edit("create", "new.py", file_text="x = 1\n")), text_turn("never")])
    repo = make_repo()
    harness = make_agent(repo, max_cost_usd=0.000001)

    # WHEN the agent runs THEN BudgetExceeded, the turn's usage is saved, and its tool never ran
    with pytest.raises(BudgetExceeded, match="cost") as raised:
        harness.agent.run("Go.")
    assert raised.value.kind == "BUDGET"
    assert harness.saved[-1].usage.cost_usd > 0
    assert not (repo / "new.py").exists()
    assert len(fake.requests) == 1


def test_job_budget_counts_other_runs(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN a job that other runs have almost spent
    fake.script([tool_turn(view("app.py")), text_turn("never")])
    harness = make_agent(make_repo(), spent_before_usd=1.0, max_job_cost_usd=1.0)

    # WHEN the agent runs THEN the per-job budget stops it
    with pytest.raises(BudgetExceeded, match="job"):
        harness.agent.run("Go.")


def test_token_budget_exceeded(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN a token budget smaller than one request
    fake.script([tool_turn(view("app.py")), text_turn("never")])
    harness = make_agent(make_repo(), max_run_tokens=10)

    # WHEN the agent runs THEN BudgetExceeded names the tokens
    with pytest.raises(BudgetExceeded, match="tokens"):
        harness.agent.run("Go.")


def test_turn_limit(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN Claude that never stops calling tools, and a limit of 3 turns
    fake.script([tool_turn(view("app.py")) for _ in range(10)])
    harness = make_agent(make_repo(), max_turns=3)

    # WHEN the agent runs THEN TurnLimitReached after exactly 3 requests
    with pytest.raises(TurnLimitReached) as raised:
        harness.agent.run("Go.")
    assert raised.value.kind == "TURN_LIMIT"
    assert str(raised.value).startswith("Claude used its 3 turns without finishing; continue the run")
    assert len(fake.requests) == 3
    assert harness.saved[-1].turns == 3


def test_wall_time_exceeded(fake: FakeAnthropic, make_repo: MakeRepo, make_agent: MakeAgent) -> None:
    # GIVEN a wall-time limit shorter than the first reply takes
    fake.script([slow(tool_turn(view("app.py")), seconds=0.6), text_turn("never")])
    harness = make_agent(make_repo(), max_wall_seconds=0.5)

    # WHEN the agent runs THEN WallTimeExceeded before a second request
    with pytest.raises(WallTimeExceeded) as raised:
        harness.agent.run("Go.")
    assert raised.value.kind == "TIMEOUT"
    assert len(fake.requests) == 1

"""A fake Anthropic Messages API over real HTTP, scripted per test, for use through the real SDK.

    with FakeAnthropic() as fake:
        fake.script([tool_turn(view("app.py")), overloaded(), text_turn("Done.")])
        client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url)

Each script step answers one HTTP request (a retried request takes the next step). A step
is a turn dict (see server.demo.anthropic_replay) or a function of the RecordedRequest
returning one, so a turn can depend on the previous tool result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from server.demo.anthropic_replay import (
    CacheMeter,
    RecordedRequest,
    ReplayServer,
    Reply,
    error_reply,
    turn_reply,
)
from tests.fakes.anthropic_rules import InvalidRequest, Unauthenticated, check_headers, check_request

Step = dict[str, Any] | Callable[[RecordedRequest], dict[str, Any]]
EDITOR = "str_replace_based_edit_tool"
FAST_RETRY = {"retry-after-ms": "10"}  # keep the SDK's backoff short in tests
FAKE_API_KEY = "test-key"  # the only key the fake accepts unless given another


class FakeAnthropic:
    """The fake endpoint: `.url` and `.api_key` for the SDK, `.script(steps)`, `.requests` as received.

    Leaving the `with` block fails (AssertionError) when the fake refused a request the test did
    not declare with `expect_refusal`, so a run that failed on a 400 cannot pass as another failure.
    """

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.meter = CacheMeter()
        self._steps: list[Step] = []
        self.rejected: list[str] = []  # why requests were refused as the real API would
        self._expected_refusals: list[str] = []
        self._lock = threading.Lock()
        self._server = ReplayServer(self._respond)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._server.requests

    @property
    def remaining(self) -> int:
        """Steps not consumed yet."""
        return len(self._steps)

    def script(self, steps: Sequence[Step]) -> FakeAnthropic:
        """Queue the answers to the next requests, in order."""
        with self._lock:
            self._steps.extend(steps)
        return self

    def expect_refusal(self, reason: str) -> FakeAnthropic:
        """Declare that this test means one request to be refused for a reason containing `reason`."""
        self._expected_refusals.append(reason)
        return self

    def check_refusals(self) -> None:
        """AssertionError unless the fake refused exactly the requests the test declared."""
        expected = list(self._expected_refusals)
        unexpected = []
        for reason in self.rejected:
            match = next((e for e in expected if e in reason), None)
            if match is None:
                unexpected.append(reason)
            else:
                expected.remove(match)
        assert not unexpected, f"the fake Anthropic API refused requests the test did not expect: {unexpected}"
        assert not expected, f"the fake Anthropic API never refused the requests the test expected: {expected}"

    def _respond(self, request: RecordedRequest) -> Reply:
        # What the real API refuses, the fake refuses too, with the same status and wording.
        try:
            check_headers(request.headers, self.api_key)
            check_request(request.body)
        except Unauthenticated as error:
            self.rejected.append(str(error))
            return error_reply(401, "authentication_error", str(error))
        except InvalidRequest as error:
            self.rejected.append(str(error))
            return error_reply(400, "invalid_request_error", str(error))
        with self._lock:
            step = self._steps.pop(0) if self._steps else None
        if step is None:
            return error_reply(500, "api_error", "the fake's script is exhausted", {"x-should-retry": "false"})
        turn = step(request) if callable(step) else step
        return turn_reply(turn, request, self.meter)

    def __enter__(self) -> FakeAnthropic:
        self._server.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self._server.close()
        if exc_type is None:
            self.check_refusals()


# -- turns ---------------------------------------------------------------------------------------


def text_turn(text: str, stop_reason: str = "end_turn") -> dict[str, Any]:
    """Claude answers with text (by default ending its turn)."""
    return {"content": [{"type": "text", "text": text}], "stop_reason": stop_reason}


def tool_use(name: str, tool_input: dict[str, Any], tool_id: str | None = None) -> dict[str, Any]:
    """One tool_use block."""
    block: dict[str, Any] = {"type": "tool_use", "name": name, "input": tool_input}
    if tool_id is not None:
        block["id"] = tool_id
    return block


def tool_turn(*calls: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """Claude calls tools (optionally saying something first)."""
    content = ([{"type": "text", "text": text}] if text else []) + list(calls)
    return {"content": content, "stop_reason": "tool_use"}


def edit(command: str, path: str, **fields: Any) -> dict[str, Any]:
    """A text editor tool call, e.g. ``edit("str_replace", "app.py", old_str=..., new_str=...)``."""
    return tool_use(EDITOR, {"command": command, "path": path, **fields})


def view(path: str, **fields: Any) -> dict[str, Any]:
    """A `view` call of the text editor tool."""
    return edit("view", path, **fields)


def bash(command: str) -> dict[str, Any]:
    """A command tool call."""
    return tool_use("bash", {"command": command})


def truncated_tool_call(call: dict[str, Any], text: str = "Let me write the file.") -> dict[str, Any]:
    """A reply cut off by max_tokens in the middle of a tool call."""
    return {"content": [{"type": "text", "text": text}, call], "stop_reason": "max_tokens"}


def refusal(text: str = "I can't help with that.") -> dict[str, Any]:
    """Claude declines (stop_reason `refusal`)."""
    return text_turn(text, stop_reason="refusal")


def pause(text: str = "Working...") -> dict[str, Any]:
    """A long turn paused by the API (stop_reason `pause_turn`)."""
    return text_turn(text, stop_reason="pause_turn")


def fault(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP error answer."""
    return {"status": status, "error": {"type": error_type, "message": message}, "headers": headers or {}}


def overloaded() -> dict[str, Any]:
    """529 overloaded, as the API says it."""
    return fault(529, "overloaded_error", "Overloaded", FAST_RETRY)


def server_error() -> dict[str, Any]:
    """500 internal error."""
    return fault(500, "api_error", "Internal server error", FAST_RETRY)


def rate_limited(retry_after: float) -> dict[str, Any]:
    """429 with a retry-after header (seconds)."""
    return fault(429, "rate_limit_error", "Rate limited", {"retry-after": f"{retry_after:g}"})


def prompt_too_long() -> dict[str, Any]:
    """400: the prompt does not fit the context window."""
    return fault(400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum")


def slow(turn: dict[str, Any], seconds: float) -> dict[str, Any]:
    """`turn`, answered after `seconds`."""
    return {**turn, "delay": seconds}


def cut_off(turn: dict[str, Any]) -> dict[str, Any]:
    """`turn`, its connection closed halfway through the body (a dropped connection)."""
    return {**turn, "cut": True}


def tool_results(request: RecordedRequest) -> list[dict[str, Any]]:
    """The tool_result blocks of the last user message of a request."""
    content = request.body["messages"][-1]["content"]
    return [block for block in content if isinstance(block, dict) and block.get("type") == "tool_result"]

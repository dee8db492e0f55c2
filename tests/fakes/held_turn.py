"""Scripted model steps for kill-and-resume tests: turn 1 edits, turn 2 ends (held until the test lets it go);
or every answer held, for tests that need a run process working until they act."""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.anthropic_server import RecordedRequest, edit, text_turn, tool_results, tool_turn
from tests.patience import PATIENCE


def greet(request: RecordedRequest) -> dict[str, Any]:
    """Whatever run asks: edit app.py first, then end the turn once the tool result is back."""
    if tool_results(request):
        return text_turn("Changed the greeting to hello.")
    return tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))


class SecondTurnHeld:
    """A model that edits app.py in turn 1 and, until `released` is set, never answers turn 2."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def step(self, request: RecordedRequest) -> dict[str, Any]:
        """The fake's script step: the edit for a first request, else the final answer once released."""
        if tool_results(request) and not self.released.is_set():
            self.released.wait(PATIENCE)  # the killed worker is gone before this returns
        return greet(request)


class HeldAnswer:
    """A model step that answers (with `greet`) only once the test sets `answer`; `answered` once it did."""

    def __init__(self) -> None:
        self.answer = threading.Event()
        self.answered = threading.Event()

    def step(self, request: RecordedRequest) -> dict[str, Any]:
        """The fake's script step: wait for `answer` (a guard of PATIENCE against hanging), then `greet`."""
        self.answer.wait(PATIENCE)
        self.answered.set()
        return greet(request)

"""The demo model: a local Messages API endpoint replaying a recorded session on the sample repository.

Stateless per request: the turn to replay is the number of assistant messages already in
the conversation, so any number of workers can share one endpoint. Before each recorded
turn the previous tool result is checked (no error, expected text present); a repository
without the sample's files gets a text turn saying the demo only knows the sample.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from typing import Any

from pydantic import SecretStr

from core.settings import Settings
from server.demo.anthropic_replay import CacheMeter, RecordedRequest, ReplayServer, Reply, turn_reply

DEMO_API_KEY = "demo-key-local-replay-only"  # never leaves this machine: the endpoint is 127.0.0.1
READ_ONLY_MARKER = "read-only analysis"  # in the system prompt of ANALYZE jobs (worker/prompts/analyze.md)

_servers: list[ReplayServer] = []


@cache
def recorded_session() -> dict[str, Any]:
    """The recorded session (package data `server/demo/session.json`)."""
    text = resources.files("server.demo").joinpath("session.json").read_text(encoding="utf-8")
    session: dict[str, Any] = json.loads(text)
    return session


class DemoReplay:
    """Answers each request with the next recorded turn of the matching script."""

    def __init__(self, pace: float | None = None) -> None:
        self.session = recorded_session()
        self.pace = self.session.get("pace_seconds", 0.0) if pace is None else pace
        self.meter = CacheMeter()

    def __call__(self, request: RecordedRequest) -> Reply:
        messages = request.body.get("messages") or []
        script = self.session["analyze" if _is_analysis(request.body) else "change"]
        position = sum(1 for message in messages if message.get("role") == "assistant")
        if position >= len(script):
            turn = _text_turn(self.session["finished"])
        elif position > 0 and not _as_recorded(messages[-1], script[position].get("expect")):
            turn = _text_turn(self.session["unknown_repository"])
        else:
            turn = {key: value for key, value in script[position].items() if key != "expect"}
        return turn_reply({**turn, "delay": self.pace}, request, self.meter)


def _is_analysis(body: dict[str, Any]) -> bool:
    system = body.get("system") or []
    text = system if isinstance(system, str) else " ".join(str(block.get("text", "")) for block in system)
    return READ_ONLY_MARKER in text


def _as_recorded(message: dict[str, Any], expect: str | None) -> bool:
    """Whether the last user message holds the tool results the recording saw."""
    content = message.get("content")
    results = [b for b in content if b.get("type") == "tool_result"] if isinstance(content, list) else []
    if not results or any(result.get("is_error") for result in results):
        return False
    return expect is None or any(expect in _result_text(result.get("content")) for result in results)


def _result_text(content: object) -> str:
    if isinstance(content, list):
        return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return str(content or "")


def _text_turn(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}


def start_demo_endpoint(settings: Settings, pace: float | None = None) -> str:
    """Serve the recorded session on 127.0.0.1:<free port> and point workers at it; the base URL.

    Workers inherit ANTHROPIC_BASE_URL and a dummy key from this process's environment,
    so a real key, if one is set, is never sent anywhere in demo mode.
    """
    server = ReplayServer(DemoReplay(pace)).start()
    _servers.append(server)
    os.environ["ANTHROPIC_BASE_URL"] = server.url
    os.environ["ANTHROPIC_API_KEY"] = DEMO_API_KEY
    settings.anthropic_base_url = server.url
    settings.anthropic_api_key = SecretStr(DEMO_API_KEY)
    settings.demo = True
    return server.url


def stop_demo_endpoints() -> None:
    """Stop every endpoint started by this process."""
    while _servers:
        _servers.pop().close()

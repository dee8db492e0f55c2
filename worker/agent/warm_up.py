"""One Messages call in-process, so that processes forked afterwards start their first call warm.

The worker forkserver calls `warm_up` once; every run process forked from it then finds ready
what the SDK builds lazily on a client's first request: its HTTP transport, the TLS context,
the type transforms and headers of a request, the models of a reply. A run forked cold spent
60-140 ms of CPU on them before its first request left, while a job's runs shared the CPUs.
The call goes to an in-process transport that answers a canned reply: no network, no key.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2

from worker.agent.caching import messages_with_breakpoint, system_blocks, tools_with_breakpoint
from worker.agent.client import tls_context
from worker.agent.command import CommandTool
from worker.agent.text_editor import TextEditorTool

# A reply as the Messages API gives one: a tool call, so the tool-use block's model loads too.
REPLY: dict[str, Any] = {
    "id": "msg_warm_up",
    "type": "message",
    "role": "assistant",
    "model": "warm-up",
    "content": [
        {"type": "text", "text": "Looking."},
        {"type": "tool_use", "id": "toolu_warm_up", "name": TextEditorTool.name, "input": {"command": "view"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
}


def _answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=REPLY)


def warm_up() -> None:
    """Make one Messages call, shaped as a run's first, against an in-process canned reply."""
    tls_context()
    transport = httpx2.MockTransport(_answer)
    http_client = httpx2.Client(transport=transport)
    client = anthropic.Anthropic(api_key="warm-up", base_url="http://warm-up.invalid", http_client=http_client)
    tools = [dict(TextEditorTool.definition), dict(CommandTool.definition)]
    task = [{"role": "user", "content": [{"type": "text", "text": "Warm up."}]}]
    try:
        reply = client.messages.create(
            model="warm-up",
            max_tokens=1024,
            system=system_blocks("Warm up.", True),  # type: ignore[arg-type]
            tools=tools_with_breakpoint(tools, True),  # type: ignore[arg-type]
            messages=messages_with_breakpoint(task, True),  # type: ignore[arg-type]
            timeout=60.0,
        )
        for block in reply.content:
            block.model_dump(mode="json", exclude_none=True)
    finally:
        client.close()

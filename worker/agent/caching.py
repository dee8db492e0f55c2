"""Prompt-caching breakpoints (at most 4): the last tool, the system block, the rolling last message."""

from __future__ import annotations

from typing import Any

EPHEMERAL = {"type": "ephemeral"}
TRIMMED_STUB = "[tool output removed to fit the context window]"


def tools_with_breakpoint(tools: list[dict[str, Any]], enabled: bool) -> list[dict[str, Any]]:
    """The tools; the last one marks the end of the cacheable tools prefix."""
    copies = [dict(tool) for tool in tools]
    if enabled and copies:
        copies[-1]["cache_control"] = dict(EPHEMERAL)
    return copies


def system_blocks(text: str, enabled: bool) -> list[dict[str, Any]]:
    """The system prompt as one text block, cached when caching is on."""
    block: dict[str, Any] = {"type": "text", "text": text}
    if enabled:
        block["cache_control"] = dict(EPHEMERAL)
    return [block]


def messages_with_breakpoint(messages: list[dict[str, Any]], enabled: bool) -> list[dict[str, Any]]:
    """The messages for a request, the breakpoint on the last block of the last message.

    The breakpoint moves every turn; the API finds the previous turn's prefix by looking back,
    so one rolling breakpoint makes each turn read all earlier turns from the cache.
    """
    request = [{"role": m["role"], "content": list(m["content"])} for m in messages]
    if not enabled or not request:
        return request
    content = request[-1]["content"]
    for position in range(len(content) - 1, -1, -1):
        if content[position].get("type") not in ("thinking", "redacted_thinking"):
            content[position] = {**content[position], "cache_control": dict(EPHEMERAL)}
            break
    return request


def trim_tool_results(messages: list[dict[str, Any]]) -> int:
    """Replace the content of every tool result but the latest turn's with a stub; returns how many."""
    trimmed = 0
    for message in messages[:-1]:
        if message["role"] != "user":
            continue
        for block in message["content"]:
            if block.get("type") == "tool_result" and block.get("content") != TRIMMED_STUB:
                block["content"] = TRIMMED_STUB
                trimmed += 1
    return trimmed

"""The thread's messages in the shape the Messages API accepts, whatever replies the model gave.

The thread keeps every reply as it came (for the record and the bill); a request must not
carry what the API refuses: an empty message before the last, a text block that is empty or
only whitespace, two messages of one role in a row, or a final assistant message ending in
whitespace (a `pause_turn` continuation).
"""

from __future__ import annotations

from typing import Any


def _kept(block: dict[str, Any]) -> bool:
    # The model sometimes emits a whitespace-only text block before a tool call; echoed, it is a 400.
    return block.get("type") != "text" or bool(str(block.get("text") or "").strip())


def request_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` (role and content lists) cleaned for a request; the stored ones are not changed."""
    request: list[dict[str, Any]] = []
    for message in messages:
        content = [block for block in message["content"] if _kept(block)]
        if not content:
            continue  # an empty reply (end_turn with nothing said): the API takes no empty message
        if request and request[-1]["role"] == message["role"]:
            request[-1]["content"].extend(content)  # tool results stay first: they came first
        else:
            request.append({"role": message["role"], "content": content})
    if request and request[-1]["role"] == "assistant":
        last = request[-1]["content"]
        if last[-1].get("type") == "text":
            last[-1] = {**last[-1], "text": last[-1]["text"].rstrip()}
    return request

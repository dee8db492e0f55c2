"""The thread's messages in the shape the Messages API accepts, whatever replies the model gave.

The thread keeps every reply as it came (for the record and the bill); a request must not
carry what the API refuses: an empty message before the last, a text block that is empty or
only whitespace, two messages of one role in a row, or a final assistant message ending in
whitespace (a `pause_turn` continuation). A stored message holds no lone surrogate: see `storable`.
"""

from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with every lone surrogate (keys too) replaced by U+FFFD.

    JSON may carry one ("\\ud800", e.g. in a tool call's input), and the SDK decodes it into a str
    that no UTF-8 encoder takes: the thread could not be saved. A surrogate pair decodes to one
    character, so whatever surrogate is left in a str is a lone one."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


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

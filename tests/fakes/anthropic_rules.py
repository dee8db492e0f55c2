"""What the real Messages API refuses with a 400, checked by the fake before it answers.

Each rule mirrors an `invalid_request_error` the API is documented (or known) to return, with
its wording, so a request the real service would reject fails the test that sent it.
"""

from __future__ import annotations

from typing import Any

MAX_CACHE_BREAKPOINTS = 4
# Anthropic-defined client tools: their fixed names and the fields their definitions may carry.
CLIENT_TOOLS: dict[str, tuple[str, frozenset[str]]] = {
    "text_editor_20250728": ("str_replace_based_edit_tool", frozenset({"max_characters"})),
    "text_editor_20250429": ("str_replace_based_edit_tool", frozenset()),
    "bash_20250124": ("bash", frozenset()),
}
COMMON_TOOL_FIELDS = frozenset({"type", "name", "cache_control"})
CUSTOM_TOOL_FIELDS = frozenset({"type", "name", "description", "input_schema", "cache_control"})
TOOL_RESULT_BLOCKS = frozenset({"text", "image", "document", "search_result"})
UNCACHEABLE = frozenset({"thinking", "redacted_thinking"})


# The top-level fields of a Messages API request; the API refuses any other.
MESSAGES_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_k",
        "top_p",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
        "container",
        "mcp_servers",
        "context_management",
    }
)
# `anthropic-version` values the API accepts: the documented ones and the one the pinned SDK sends.
# A new SDK that sends another is refused here until its version is added, on purpose.
API_VERSIONS = frozenset({"2023-01-01", "2023-06-01", "2026-10-21"})


class InvalidRequest(Exception):
    """The 400 the real API would answer, with its message."""


class Unauthenticated(Exception):
    """The 401 the real API answers a request without a valid key."""


def check_headers(headers: dict[str, str], api_key: str) -> None:
    """Raise Unauthenticated or InvalidRequest unless `headers` (lowercase names) carry `api_key` in either
    form the SDK sends (`x-api-key`, or `Authorization: Bearer`) and a known `anthropic-version`."""
    bearer = headers.get("authorization", "")
    sent = headers.get("x-api-key") or (bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else None)
    if not sent:
        raise Unauthenticated("x-api-key header is required")
    if sent != api_key:
        raise Unauthenticated("invalid x-api-key")
    version = headers.get("anthropic-version")
    if version is None:
        raise InvalidRequest("anthropic-version: header is required")
    if version not in API_VERSIONS:
        raise InvalidRequest(f"anthropic-version: invalid version {version!r}")


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def _check_text(block: dict[str, Any], where: str) -> None:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        if "cache_control" in block:
            raise InvalidRequest(f"{where}: cache_control cannot be set for empty text blocks")
        raise InvalidRequest(f"{where}: text content blocks must be non-empty")
    if not text.strip():
        raise InvalidRequest(f"{where}: text content blocks must contain non-whitespace text")


def _check_tools(tools: list[dict[str, Any]]) -> None:
    for index, tool in enumerate(tools):
        kind, where = tool.get("type", "custom"), f"tools.{index}"
        if kind in CLIENT_TOOLS:
            name, extra = CLIENT_TOOLS[kind]
            if tool.get("name") != name:
                raise InvalidRequest(f"{where}.{kind}.name: Input should be '{name}'")
            allowed = COMMON_TOOL_FIELDS | extra
            max_characters = tool.get("max_characters")
            if max_characters is not None and (not isinstance(max_characters, int) or max_characters < 1):
                raise InvalidRequest(f"{where}.{kind}.max_characters: Input should be greater than or equal to 1")
        elif kind == "custom":
            allowed = CUSTOM_TOOL_FIELDS
            if "input_schema" not in tool:
                raise InvalidRequest(f"{where}.custom.input_schema: Field required")
        else:
            raise InvalidRequest(
                f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
            )
        for key in tool:
            if key not in allowed:
                raise InvalidRequest(f"{where}.{kind}.{key}: Extra inputs are not permitted")


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content: Input should be a valid string or list")
    for position, inner in enumerate(content):
        if inner.get("type") not in TOOL_RESULT_BLOCKS:
            raise InvalidRequest(f"{where}.content.{position}: tool_result content may hold text or images only")
        if inner.get("type") == "text":
            _check_text(inner, f"{where}.content.{position}")


def _check_pairing(messages: list[dict[str, Any]]) -> None:
    """Every tool_use is answered, first thing, in the next (user) message; no result is unasked."""
    for index, message in enumerate(messages):
        blocks = _blocks(message.get("content"))
        results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
        if results:
            previous = _blocks(messages[index - 1].get("content")) if index > 0 else []
            asked = {b.get("id") for b in previous if b.get("type") == "tool_use"}
            unexpected = [r for r in results if r not in asked]
            if message.get("role") != "user" or unexpected:
                raise InvalidRequest(
                    f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(map(str, unexpected or results))}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )
            kinds = [b.get("type") for b in blocks]
            if kinds[: len(results)] != ["tool_result"] * len(results):
                raise InvalidRequest(
                    f"messages.{index}: `tool_result` blocks must come first in the content, before any other block"
                )
        calls = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
        if calls and index + 1 < len(messages):
            following = _blocks(messages[index + 1].get("content"))
            answered = {b.get("tool_use_id") for b in following if b.get("type") == "tool_result"}
            missing = [c for c in calls if c not in answered]
            if missing:
                raise InvalidRequest(
                    f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(map(str, missing))}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )


def _check_messages(messages: list[dict[str, Any]]) -> None:
    if not messages:
        raise InvalidRequest("messages: at least one message is required")
    for index, message in enumerate(messages):
        role, blocks = message.get("role"), _blocks(message.get("content"))
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        last = index == len(messages) - 1
        if not blocks and not (last and role == "assistant"):
            raise InvalidRequest(
                f"messages.{index}: all messages must have non-empty content except for the optional final "
                "assistant message"
            )
        for position, block in enumerate(blocks):
            where = f"messages.{index}.content.{position}"
            if block.get("type") == "text":
                _check_text(block, where)
            elif block.get("type") == "tool_result":
                _check_tool_result(block, where)
            elif block.get("type") in UNCACHEABLE and "cache_control" in block:
                raise InvalidRequest(f"{where}: cache_control cannot be set on {block['type']} blocks")
            elif block.get("type") == "thinking" and not block.get("signature"):
                raise InvalidRequest(f"{where}.thinking.signature: Field required")
        final_text = blocks[-1].get("text") if last and role == "assistant" and blocks else None
        if isinstance(final_text, str) and final_text != final_text.rstrip():
            raise InvalidRequest("messages: final assistant content cannot end with trailing whitespace")
    _check_pairing(messages)


def _breakpoints(body: dict[str, Any]) -> int:
    system = body.get("system")
    blocks: list[Any] = [*(body.get("tools") or []), *(system if isinstance(system, list) else [])]
    for message in body.get("messages") or []:
        for block in _blocks(message.get("content")):
            blocks.append(block)
            if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                blocks.extend(block["content"])
    return sum(1 for block in blocks if isinstance(block, dict) and "cache_control" in block)


def check_request(body: dict[str, Any]) -> None:
    """Raise InvalidRequest when the real Messages API would refuse `body`."""
    for field in body:
        if field not in MESSAGES_FIELDS:
            raise InvalidRequest(f"{field}: Extra inputs are not permitted")
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            raise InvalidRequest(f"{field}: Field required")
    max_tokens = body["max_tokens"]
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidRequest("max_tokens: Input should be greater than or equal to 1")
    system = body.get("system")
    if isinstance(system, list):
        for position, block in enumerate(system):
            _check_text(block, f"system.{position}")
    _check_tools(body.get("tools") or [])
    _check_messages(body["messages"])
    found = _breakpoints(body)
    if found > MAX_CACHE_BREAKPOINTS:
        raise InvalidRequest(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {found}."
        )

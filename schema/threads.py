"""Thread types: the exact Anthropic messages of a run, block by block."""

from __future__ import annotations

import json
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from core import models
from schema.usage import Usage


@strawberry.type
class TextBlock:
    text: str


@strawberry.type
class ToolUseBlock:
    id: str
    name: str
    input: JSON


@strawberry.type
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool


@strawberry.type
class ThinkingBlock:
    thinking: str
    redacted: bool


ContentBlock = Annotated[TextBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock, strawberry.union("ContentBlock")]


def _result_text(content: Any) -> str:
    """Tool result content is a string or a list of blocks; show the text of it."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            item.get("text", "") if item.get("type") == "text" else f"[{item.get('type', 'block')}]"
            for item in content
            if isinstance(item, dict)
        ]
        return "\n".join(parts)
    return "" if content is None else json.dumps(content)


def block_from_dict(block: dict[str, Any]) -> ContentBlock:
    """One Anthropic content block (API dict) as its GraphQL type."""
    kind = block.get("type")
    if kind == "text":
        return TextBlock(text=str(block.get("text", "")))
    if kind in ("tool_use", "server_tool_use"):
        return ToolUseBlock(
            id=str(block.get("id", "")), name=str(block.get("name", "")), input=JSON(block.get("input") or {})
        )
    if kind == "tool_result":
        return ToolResultBlock(
            tool_use_id=str(block.get("tool_use_id", "")),
            content=_result_text(block.get("content")),
            is_error=bool(block.get("is_error", False)),
        )
    if kind == "thinking":
        return ThinkingBlock(thinking=str(block.get("thinking", "")), redacted=False)
    if kind == "redacted_thinking":
        return ThinkingBlock(thinking="", redacted=True)
    # Blocks this API has no type for yet (images, documents) still show up, as text.
    return TextBlock(text=f"[{kind or 'unknown'} block]")


@strawberry.type
class Message:
    index: int
    role: str
    blocks: list[ContentBlock]
    usage: Usage | None
    stop_reason: str | None

    @classmethod
    def from_model(cls, message: models.Message) -> Message:
        return cls(
            index=message.index,
            role=message.role,
            blocks=[block_from_dict(b) for b in message.content],
            usage=None if message.usage is None else Usage.from_model(message.usage),
            stop_reason=message.stop_reason,
        )


@strawberry.type(description="The exact exchange with Claude for the current attempt of a run.")
class Thread:
    model: str
    turns: int
    messages: list[Message]
    usage: Usage
    system: str = strawberry.field(description="The system prompt Claude was given, as sent.")
    tool_names: list[str] = strawberry.field(description="Names of the tools Claude was offered.")

    @classmethod
    def from_model(cls, thread: models.Thread) -> Thread:
        return cls(
            model=thread.model,
            turns=thread.turns,
            messages=[Message.from_model(m) for m in thread.messages],
            usage=Usage.from_model(thread.usage),
            system="\n\n".join(str(block.get("text", "")) for block in thread.system),
            tool_names=[str(tool.get("name", "")) for tool in thread.tools],
        )

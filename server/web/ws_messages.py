"""graphql-transport-ws messages checked for shape before Strawberry's handler reads them."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

_OPTIONAL_OBJECTS = ("variables", "extensions")


def _payload_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "a subscribe message needs a payload object"
    if not isinstance(payload.get("query"), str):
        return "a subscribe payload needs a query string"
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        return "operationName must be a string or null"
    for name in _OPTIONAL_OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            return f"{name} must be an object or null"
    return None


def message_problem(message: Any) -> str | None:
    """Why a decoded frame is not a well-formed graphql-transport-ws message, or None."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "a message needs a string type"
    if kind in ("subscribe", "complete") and not (isinstance(message.get("id"), str) and message["id"]):
        return f"a {kind} message needs a non-empty string id"
    if kind == "subscribe":
        return _payload_problem(message.get("payload"))
    payload = message.get("payload")
    if payload is not None and not isinstance(payload, dict):
        return "a message payload must be an object"
    return None


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Closes with 4400 and a reason on a malformed message, as the protocol asks, instead of failing."""

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

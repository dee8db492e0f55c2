"""GraphQL over WebSocket (graphql-transport-ws) via Strawberry's ASGI view."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from resolvers.context import Context
from server.web.auth import TokenGuard
from server.web.json_text import InvalidJSONText, load_json_text
from server.web.shared_subscriptions import SharedSubscriptionHandler, SharedSubscriptions


class GraphQLWebSocket(GraphQL[Context, None]):
    """Subscriptions (and other operations) over graphql-transport-ws, one Context per connection;
    subscribers of the same subscription share its execution."""

    graphql_transport_ws_handler_class = SharedSubscriptionHandler

    def __init__(self, schema: strawberry.Schema, make_context: Callable[[], Context], guard: TokenGuard) -> None:
        super().__init__(schema, graphql_ide=None, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.make_context = make_context
        self.guard = guard
        self.shared_subscriptions = SharedSubscriptions(schema, make_context)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return load_json_text(data)
        except InvalidJSONText as err:
            # Strawberry closes with 4400 on a JSONDecodeError, as for any frame that is not JSON.
            raise json.JSONDecodeError(str(err), data if isinstance(data, str) else "", 0) from None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return self.make_context()

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, Any] | None:
        # The token arrives in connection_init, since browsers cannot set WebSocket headers.
        if not self.guard.accepts_connection_params(context.connection_params):
            raise ConnectionRejectionError()
        return UNSET

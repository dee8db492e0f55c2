"""Messages to WebSocket clients through API Gateway's `@connections` API."""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)


class ConnectionGone(Exception):
    """The client has gone (410 GoneException): its connection and subscriptions can go too."""


class ConnectionCallbacks:
    """post_to_connection and delete_connection over a boto3 `apigatewaymanagementapi` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        """Send one graphql-transport-ws message; ConnectionGone when the client has gone."""
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self.client.exceptions.GoneException:
            raise ConnectionGone(connection_id) from None

    def close(self, connection_id: str) -> None:
        """Close the connection (API Gateway sends no close code); a gone client is fine."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            return

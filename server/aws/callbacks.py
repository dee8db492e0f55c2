"""Messages to WebSocket clients through API Gateway's `@connections` API."""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

logger = logging.getLogger(__name__)

# Attempts at a post whose connection failed (nothing was taken in, so trying again is safe).
CONNECT_ATTEMPTS = 3


class ConnectionGone(Exception):
    """The client has gone (410 GoneException): its connection and subscriptions can go too."""


class ConnectionCallbacks:
    """post_to_connection and delete_connection over a boto3 `apigatewaymanagementapi` client
    (server/aws/clients.py `connections_client`: the SDK itself retries nothing)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        """Send one graphql-transport-ws message; ConnectionGone when the client has gone.

        A post whose answer never came may have reached the client: it counts as sent, since
        posting it again could give the client the same frame twice (docs/DESIGN.md).
        """
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=data)
                return
            except self.client.exceptions.GoneException:
                raise ConnectionGone(connection_id) from None
            except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError):
                # No connection, or one closed under the request: mostly a pooled keep-alive
                # connection the far end had already dropped, before anything was read.
                if attempt == CONNECT_ATTEMPTS:
                    raise
            except ReadTimeoutError as error:
                logger.warning("no answer to a post to %s, taken as sent: %s", connection_id, error)
                return

    def close(self, connection_id: str) -> None:
        """Close the connection (API Gateway sends no close code); a gone client is fine."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            return

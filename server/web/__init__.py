"""The local ASGI app: GraphQL over HTTP and WebSocket, auth, downloads and request context."""

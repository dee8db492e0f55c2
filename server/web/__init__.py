"""The local ASGI app: GraphQL over HTTP and WebSocket (shared subscriptions), auth, allowed hosts, downloads,
GitHub webhooks and request context."""

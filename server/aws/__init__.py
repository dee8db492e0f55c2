"""The AWS side of the server: Lambda handlers, WebSocket subscriptions, stream fan-out, Batch dispatch."""

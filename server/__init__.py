"""Composition root and entrypoints: CLI, ASGI app, dispatchers, event tail."""

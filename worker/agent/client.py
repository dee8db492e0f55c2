"""The Anthropic client a worker uses, built from the model endpoint it is configured with."""

from __future__ import annotations

import anthropic

from core.errors import ConfigurationError
from worker.run_config import ModelEndpoint

MAX_RETRIES = 4  # 429/5xx/529 are retried with backoff, honouring retry-after
REQUEST_TIMEOUT = 600.0


def make_client(endpoint: ModelEndpoint) -> anthropic.Anthropic:
    """A client with the API key, base URL (the demo endpoint or a proxy) and bounded retries."""
    if endpoint.api_key is None:
        raise ConfigurationError("ANTHROPIC_API_KEY is not set (or run the server with --demo).")
    return anthropic.Anthropic(
        api_key=endpoint.api_key.get_secret_value(),
        base_url=endpoint.base_url or None,
        max_retries=MAX_RETRIES,
        timeout=REQUEST_TIMEOUT,
    )


def warm_up() -> None:
    """Import what a first request needs: the SDK loads its HTTP transport lazily, so a process
    forked after this (the worker forkserver calls it) starts its first call sooner. No request
    is made."""
    client = anthropic.Anthropic(api_key="warm-up", base_url="http://127.0.0.1:9", max_retries=0)
    try:
        _ = client.messages
    finally:
        client.close()

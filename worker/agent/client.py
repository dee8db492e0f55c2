"""The Anthropic client a worker uses, built from settings."""

from __future__ import annotations

import anthropic

from core.errors import ConfigurationError
from core.settings import Settings

MAX_RETRIES = 4  # 429/5xx/529 are retried with backoff, honouring retry-after
REQUEST_TIMEOUT = 600.0


def make_client(settings: Settings) -> anthropic.Anthropic:
    """A client with the API key, base URL (the demo endpoint or a proxy) and bounded retries."""
    if settings.anthropic_api_key is None:
        raise ConfigurationError("ANTHROPIC_API_KEY is not set (or run the server with --demo).")
    return anthropic.Anthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url or None,
        max_retries=MAX_RETRIES,
        timeout=REQUEST_TIMEOUT,
    )

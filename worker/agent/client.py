"""The Anthropic client a worker uses, built from the model endpoint it is configured with."""

from __future__ import annotations

import os
import ssl
from functools import cache

import anthropic
import httpx2

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
        http_client=anthropic.DefaultHttpxClient(verify=tls_context(), timeout=REQUEST_TIMEOUT),
    )


def tls_context() -> ssl.SSLContext:
    """The TLS context the SDK would build for a client, built once per process and reused.

    Reading the CA store takes tens of milliseconds of CPU, which each of a job's runs spent
    before its first model call while they shared the CPUs; the worker forkserver builds it in
    `warm_up`, so a forked run finds it ready. It is the SDK's own default (httpx2 honours
    SSL_CERT_FILE and SSL_CERT_DIR), kept per value of those two, as a run's environment is the
    server's at dispatch, not the forkserver's."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@cache
def _tls_context_for(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    # The arguments are the cache key: httpx2 reads the same two variables itself.
    return httpx2.create_ssl_context()

"""Anthropic API errors, after the SDK's bounded retries, as agent errors with a clear message."""

from __future__ import annotations

import anthropic

from worker.agent.errors import ModelUnavailable

OVERFLOW_MARKERS = ("prompt is too long", "context window", "too many tokens")
BILLING_MARKERS = ("credit balance", "billing", "spend limit", "usage limit", "quota")


def _message(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        detail = body.get("error")
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            return detail["message"]
    return str(error.message)


def is_context_overflow(error: anthropic.APIStatusError) -> bool:
    """Whether the request failed because the conversation is too long for the model."""
    if error.status_code == 413:
        return True
    return error.status_code == 400 and any(marker in _message(error).lower() for marker in OVERFLOW_MARKERS)


def model_unavailable(error: anthropic.APIError) -> ModelUnavailable:
    """The ModelUnavailable for an API error, saying what a user can do about it."""
    if isinstance(error, anthropic.AuthenticationError):
        return ModelUnavailable("The Anthropic API rejected the API key (401); check ANTHROPIC_API_KEY.")
    if isinstance(error, anthropic.PermissionDeniedError):
        return ModelUnavailable(f"The API key may not use this model or feature (403): {_message(error)}")
    if isinstance(error, anthropic.APIStatusError):
        detail = _message(error)
        if error.status_code == 402 or any(marker in detail.lower() for marker in BILLING_MARKERS):
            return ModelUnavailable(f"The Anthropic account cannot pay for this request: {detail}")
        if isinstance(error, anthropic.NotFoundError):
            return ModelUnavailable(f"Unknown model or endpoint (404): {detail}")
        return ModelUnavailable(f"The Anthropic API failed with HTTP {error.status_code} after retries: {detail}")
    if isinstance(error, anthropic.APITimeoutError):
        return ModelUnavailable("The Anthropic API did not answer in time, even after retries.")
    return ModelUnavailable(f"Could not reach the Anthropic API: {error.message}")

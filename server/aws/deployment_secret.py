"""Settings of an AWS function: its environment, plus the keys it needs of the stack's Secrets Manager secret.

The stack gives each function the secret's ARN (CODY_BATCH_SECRET_ARN) and the names of the keys
it may use (CODY_BATCH_SECRET_KEYS), never a value: the values live in the secret alone, and are
read here once per cold start (the handlers keep their runtime while the Lambda is warm).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.errors import ConfigurationError
from core.settings import SECRET_VARIABLES, Settings, secret_field
from server.aws.clients import aws_client

FUNCTION_SECRETS: dict[str, tuple[str, ...]] = {
    # Runs the mutations (createJob checks GitHub access), verifies GitHub's deliveries.
    "http": ("CODY_BATCH_API_TOKEN", "GITHUB_TOKEN", "CODY_BATCH_GITHUB_WEBHOOK_SECRET"),
    "websocket": ("CODY_BATCH_API_TOKEN", "GITHUB_TOKEN"),
    # The key that signs the patch links of the updates it pushes is derived from the API token.
    "stream": ("CODY_BATCH_API_TOKEN",),
    "github": ("GITHUB_TOKEN",),
}
"""The keys of the stack's secret each function reads; none calls Claude."""


def _secret_string(secret_id: str) -> str:
    # No cache here: the runtime that asks is built once per cold start and kept, so a cache with an
    # expiry (Powertools' Parameters) would buy nothing, and would cost the HTTP function its imports.
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = aws_client("secretsmanager").get_secret_value(SecretId=secret_id)
    except (ClientError, BotoCoreError) as err:
        # AWS's reason (not found, access denied) names the secret, never a value.
        raise ConfigurationError(f"the secret {secret_id!r} cannot be read: {err}") from err
    return str(answer.get("SecretString") or "")


def put_secret_values(secret_id: str, environ: Mapping[str, str]) -> list[str]:
    """Write the secret variables set in `environ` into the secret, keeping its other keys; their names."""
    given = {name: environ[name] for name in SECRET_VARIABLES if environ.get(name)}
    if not given:
        raise ConfigurationError(f"none of {', '.join(SECRET_VARIABLES)} is set in this shell: nothing to put")
    current = _json_object(_secret_string(secret_id) or "{}")
    document = {**dict.fromkeys(SECRET_VARIABLES, ""), **current, **given}
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws_client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    except (ClientError, BotoCoreError) as err:
        raise ConfigurationError(f"the secret cannot be written: {err}") from err
    return sorted(given)


def secret_values(secret_id: str, keys: list[str]) -> dict[str, str]:
    """The named keys of the secret's JSON that hold a value; ConfigurationError if it cannot be read."""
    unknown = sorted(set(keys) - set(SECRET_VARIABLES))
    if unknown:
        raise ConfigurationError(f"CODY_BATCH_SECRET_KEYS names {', '.join(unknown)}: not a secret setting")
    document = _json_object(_secret_string(secret_id))
    return {key: value for key in keys if isinstance(value := document.get(key), str) and value}


def _json_object(raw: Any) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (TypeError, ValueError):
        document = None
    if not isinstance(document, dict):
        # Not the parse error's text: it would quote the secret.
        raise ConfigurationError("the secret is not a JSON object of keys and values")
    return document


def aws_settings() -> Settings:
    """The function's settings: the environment's, with its secret keys' values from Secrets Manager."""
    settings = Settings(backend="aws")
    if not settings.secret_arn:
        return settings
    values = secret_values(settings.secret_arn, settings.secret_keys)
    updates: dict[str, Any] = {secret_field(key): value for key, value in values.items()}
    return Settings(backend="aws", **updates)

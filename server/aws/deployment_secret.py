"""Settings of an AWS function: its environment, plus the keys it needs of the stack's Secrets Manager secret.

The stack gives each function the secret's ARN (CODY_BATCH_SECRET_ARN) and the names of the keys
it may use (CODY_BATCH_SECRET_KEYS), never a value: the values live in the secret alone, and are
read here once per cold start (the handlers keep their runtime while the Lambda is warm).
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from core.errors import ConfigurationError
from core.settings import SECRET_VARIABLES, Settings, secret_field
from server.aws.clients import aws_client

if TYPE_CHECKING:  # Powertools loads on first use, not with this module
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

FUNCTION_SECRETS: dict[str, tuple[str, ...]] = {
    # Runs the mutations (createJob checks GitHub access), verifies GitHub's deliveries.
    "http": ("CODY_BATCH_API_TOKEN", "GITHUB_TOKEN", "CODY_BATCH_GITHUB_WEBHOOK_SECRET"),
    "websocket": ("CODY_BATCH_API_TOKEN", "GITHUB_TOKEN"),
    # The key that signs the patch links of the updates it pushes is derived from the API token.
    "stream": ("CODY_BATCH_API_TOKEN",),
    "github": ("GITHUB_TOKEN",),
}
"""The keys of the stack's secret each function reads; none calls Claude."""
SECRET_MAX_AGE = 300
"""Seconds Powertools keeps a read value: a runtime built again within them (e.g. after an error) asks once."""


@cache
def _provider() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def reset() -> None:
    """Forget the provider and its cached values (tests point a fresh client at moto)."""
    _provider.cache_clear()


def secret_values(secret_id: str, keys: list[str]) -> dict[str, str]:
    """The named keys of the secret's JSON that hold a value; ConfigurationError if it cannot be read."""
    unknown = sorted(set(keys) - set(SECRET_VARIABLES))
    if unknown:
        raise ConfigurationError(f"CODY_BATCH_SECRET_KEYS names {', '.join(unknown)}: not a secret setting")
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        raw = _provider().get(secret_id, max_age=SECRET_MAX_AGE)
    except GetParameterError as err:
        # The error names the secret and AWS's reason (missing, access denied); it never holds a value.
        raise ConfigurationError(f"the secret CODY_BATCH_SECRET_ARN names cannot be read: {err}") from err
    document = _json_object(raw)
    return {key: value for key in keys if isinstance(value := document.get(key), str) and value}


def _json_object(raw: Any) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (TypeError, ValueError):
        document = None
    if not isinstance(document, dict):
        # Not the parse error's text: it would quote the secret.
        raise ConfigurationError("the secret CODY_BATCH_SECRET_ARN names is not a JSON object of keys and values")
    return document


def aws_settings() -> Settings:
    """The function's settings: the environment's, with its secret keys' values from Secrets Manager."""
    settings = Settings(backend="aws")
    if not settings.secret_arn:
        return settings
    values = secret_values(settings.secret_arn, settings.secret_keys)
    updates: dict[str, Any] = {secret_field(key): value for key, value in values.items()}
    return Settings(backend="aws", **updates)

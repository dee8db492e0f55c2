"""What ECS does with a container's `secrets` when it starts the task: each `valueFrom` read from Secrets Manager.

A job definition names keys of a secret (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME:KEY::`), never
their values; ECS resolves them into the container's environment. The emulator's children get theirs here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

ARN_PARTS = 7
"""`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`; a JSON key, version stage and version id may follow."""


class ContainerSecretError(ValueError):
    """A `valueFrom` ECS would not resolve either: the task does not start."""


def split_value_from(value_from: str) -> tuple[str, str | None]:
    """The secret's ARN and the JSON key (None: the whole secret) of a Secrets Manager `valueFrom`."""
    parts = value_from.split(":")
    if len(parts) < ARN_PARTS or parts[:3] != ["arn", "aws", "secretsmanager"] or parts[5] != "secret":
        raise ContainerSecretError(f"valueFrom {value_from!r}: only Secrets Manager secret ARNs are emulated")
    key = parts[ARN_PARTS] if len(parts) > ARN_PARTS else ""
    return ":".join(parts[:ARN_PARTS]), key or None


def container_secrets(secrets: Iterable[Mapping[str, str]], secretsmanager: Any) -> dict[str, str]:
    """Each of a container definition's `secrets` ({name, valueFrom}) as the variable ECS would set."""
    documents: dict[str, str] = {}
    environment: dict[str, str] = {}
    for secret in secrets:
        arn, key = split_value_from(secret["valueFrom"])
        if arn not in documents:
            documents[arn] = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
        if key is None:
            environment[secret["name"]] = documents[arn]
            continue
        try:
            document = json.loads(documents[arn])
        except ValueError:
            document = None
        if not isinstance(document, dict) or key not in document:
            raise ContainerSecretError(f"the secret {arn} has no JSON key {key!r}")
        environment[secret["name"]] = str(document[key])
    return environment

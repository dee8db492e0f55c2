"""The stack's one Secrets Manager secret: a JSON object with a key per secret setting, filled after deploy."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from core.settings import SECRET_VARIABLES

API_TOKEN = "CODY_BATCH_API_TOKEN"


def deployment_secret(
    scope: Construct, construct_id: str, *, existing: str | None, retain: bool
) -> secretsmanager.ISecret:
    """The secret named by `existing` (an ARN or a name), or a new one: a generated API token, the other keys empty.

    The template holds key names only: the user puts the values (`put-secret-value`), and as the
    template never changes, later deploys leave them alone. Every key exists from the start, as
    ECS refuses to start a task whose `valueFrom` names a key the secret lacks. The API token is
    generated so that the API is closed from the first request: a function instance started
    before the user's values arrive keeps what it read until Lambda replaces it.
    """
    if existing:
        if existing.startswith("arn:"):
            return secretsmanager.Secret.from_secret_complete_arn(scope, construct_id, existing)
        return secretsmanager.Secret.from_secret_name_v2(scope, construct_id, existing)
    return secretsmanager.Secret(
        scope,
        construct_id,
        description="Cody Batch keys and tokens: " + ", ".join(SECRET_VARIABLES) + " (empty: unset)",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({name: "" for name in SECRET_VARIABLES if name != API_TOKEN}),
            generate_string_key=API_TOKEN,
            exclude_punctuation=True,  # a bearer token travels in a header, typed or pasted
            password_length=64,
        ),
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
    )

"""The functions' keys and tokens come from the stack's Secrets Manager secret (moto), each function's keys only."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigurationError
from server import lambdas
from server.aws.deployment_secret import aws_settings
from tests.integration.aws.conftest import aws_client
from tests.integration.aws.test_http_handler import answer_body, request

IN_SECRET = {
    "ANTHROPIC_API_KEY": "sk-ant-only-for-the-worker",
    "GITHUB_TOKEN": "",  # as the stack creates every key: empty means unset
    "CODY_BATCH_API_TOKEN": "api-token-from-the-secret",
    "CODY_BATCH_GITHUB_WEBHOOK_SECRET": "webhook-from-the-secret",
}
QUERY = {"query": "{ settings { backend } }"}


def _secret(document: str) -> str:
    return str(aws_client("secretsmanager").create_secret(Name="cody-batch", SecretString=document)["ARN"])


@pytest.fixture
def function_environment(lambda_environment: None, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """What the stack sets on a function, less the secret's ARN and keys (each test sets those)."""
    for name in IN_SECRET:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_http_function_requires_the_api_token_it_read_from_the_secret(
    function_environment: pytest.MonkeyPatch,
) -> None:
    # GIVEN the secret, and a function whose environment holds its ARN and key names, no value
    function_environment.setenv("CODY_BATCH_SECRET_ARN", _secret(json.dumps(IN_SECRET)))
    function_environment.setenv("CODY_BATCH_SECRET_KEYS", "CODY_BATCH_API_TOKEN,GITHUB_TOKEN")
    # WHEN requests come without the token, with another one, and with the secret's
    anonymous = lambdas.http_handler(request("POST", "/graphql", QUERY), None)
    wrong = lambdas.http_handler(request("POST", "/graphql", QUERY, authorization="Bearer guess"), None)
    allowed = lambdas.http_handler(
        request("POST", "/graphql", QUERY, authorization="Bearer api-token-from-the-secret"), None
    )
    # THEN only the secret's token is let in
    assert anonymous["statusCode"] == 401 and wrong["statusCode"] == 401
    assert json.loads(answer_body(allowed)) == {"data": {"settings": {"backend": "aws"}}}


def test_a_function_reads_only_its_keys_and_an_empty_one_is_unset(function_environment: pytest.MonkeyPatch) -> None:
    function_environment.setenv("CODY_BATCH_SECRET_ARN", _secret(json.dumps(IN_SECRET)))
    function_environment.setenv("CODY_BATCH_SECRET_KEYS", "CODY_BATCH_API_TOKEN,GITHUB_TOKEN")
    settings = aws_settings()
    assert settings.api_token is not None and settings.api_token.get_secret_value() == IN_SECRET["CODY_BATCH_API_TOKEN"]
    assert settings.github_token is None
    # In the secret, not among the function's keys: never read into it
    assert settings.anthropic_api_key is None and settings.github_webhook_secret is None


def test_without_a_secret_arn_the_environment_alone_configures_the_function(
    function_environment: pytest.MonkeyPatch,
) -> None:
    function_environment.setenv("CODY_BATCH_API_TOKEN", "from-the-environment")
    settings = aws_settings()
    assert settings.api_token is not None and settings.api_token.get_secret_value() == "from-the-environment"


@pytest.mark.parametrize(
    ("document", "keys", "error"),
    [
        (None, "CODY_BATCH_API_TOKEN", "cannot be read"),
        ('["sk-ant-leaked-if-quoted"]', "CODY_BATCH_API_TOKEN", "not a JSON object"),
        ("sk-ant-leaked-if-quoted", "CODY_BATCH_API_TOKEN", "not a JSON object"),
        (json.dumps(IN_SECRET), "CODY_BATCH_API_TOKEN,AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_a_missing_or_malformed_secret_is_a_configuration_error_that_quotes_no_value(
    function_environment: pytest.MonkeyPatch, document: str | None, keys: str, error: str
) -> None:
    # GIVEN a secret that does not exist, is not a JSON object, or a key list naming something else
    arn = _secret(document) if document is not None else "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone"
    function_environment.setenv("CODY_BATCH_SECRET_ARN", arn)
    function_environment.setenv("CODY_BATCH_SECRET_KEYS", keys)
    # WHEN the function builds its settings THEN it stops with a message that names the problem, no value
    with pytest.raises(ConfigurationError, match=error) as raised:
        aws_settings()
    assert "leaked" not in str(raised.value)
    assert "api-token-from-the-secret" not in str(raised.value)

"""The keys and tokens live in one Secrets Manager secret: the assembly holds its ARN and key names, never a value."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from core.settings import SECRET_VARIABLES
from infra.functions import HANDLERS
from server.aws.deployment_secret import FUNCTION_SECRETS
from tests.infra import cfn
from tests.infra.conftest import EXISTING_SECRET, SECRETS, Assembly

READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def _job(template: Template) -> dict[str, Any]:
    return cfn.one(template, "AWS::Batch::JobDefinition")[1]["Properties"]["ContainerProperties"]


def _secret_statements(template: Template, role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for s in cfn.role_statements(template, role) if any(a.startswith("secretsmanager:") for a in cfn.actions(s))
    ]


def test_no_secret_value_reaches_the_cloud_assembly_from_a_shell_that_has_them(assembly: Assembly) -> None:
    # GIVEN the dev stack synthesized from a shell with every secret variable set (conftest)
    # WHEN every file CDK wrote for CloudFormation is read: templates, manifests, metadata, the tree
    written = sorted(assembly.outdir.glob("*.json"))
    assert any(path.name == "CodyBatch-dev.template.json" for path in written)
    # THEN no value is in any of them
    for path in written:
        text = path.read_text()
        for name, value in SECRETS.items():
            assert value not in text, f"the value of {name} is in {path.name}"


def test_the_shell_is_told_where_its_secrets_go_by_name_only(assembly: Assembly) -> None:
    metadata = (assembly.outdir / "CodyBatch-dev.metadata.json").read_text()
    assert "ANTHROPIC_API_KEY, GITHUB_TOKEN, CODY_BATCH_API_TOKEN, CODY_BATCH_GITHUB_WEBHOOK_SECRET in this shell" in (
        metadata
    )


def test_the_stack_creates_one_secret_with_a_generated_api_token_and_the_other_keys_empty(assembly: Assembly) -> None:
    secret_id, secret = cfn.one(assembly.dev, "AWS::SecretsManager::Secret")
    # CloudFormation generates the token: the API is closed before the user's values arrive
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "CODY_BATCH_API_TOKEN"
    assert generated["PasswordLength"] >= 32
    assert json.loads(generated["SecretStringTemplate"]) == {
        name: "" for name in SECRET_VARIABLES if name != "CODY_BATCH_API_TOKEN"
    }
    assert "SecretString" not in secret["Properties"]
    assert secret["DeletionPolicy"] == "Delete"
    # prod keeps it, with the values put into it, when the stack goes
    assert cfn.one(assembly.prod, "AWS::SecretsManager::Secret")[1]["DeletionPolicy"] == "Retain"
    # AND the stack names it for `put-secret-value`
    assert assembly.dev.to_json()["Outputs"]["SecretArn"]["Value"] == cfn.ref(secret_id)


def test_each_function_gets_the_secret_arn_and_the_keys_it_needs_and_reads_that_secret_only(
    assembly: Assembly,
) -> None:
    secret_id, _ = cfn.one(assembly.dev, "AWS::SecretsManager::Secret")
    for name, handler in HANDLERS.items():
        _, fn = cfn.function(assembly.dev, handler)
        env = cfn.environment(fn)
        if name not in FUNCTION_SECRETS:
            # The Batch failures function resumes runs and submits jobs: no secret, and no right to read one.
            assert name == "batch" and not {"CODY_BATCH_SECRET_ARN", "CODY_BATCH_SECRET_KEYS"} & set(env)
            assert _secret_statements(assembly.dev, fn["Properties"]["Role"]) == []
            continue
        assert env["CODY_BATCH_SECRET_ARN"] == cfn.ref(secret_id), name
        assert env["CODY_BATCH_SECRET_KEYS"] == ",".join(FUNCTION_SECRETS[name]), name
        assert not set(env) & set(SECRET_VARIABLES), name
        # Read on the one secret, nothing else of Secrets Manager
        (statement,) = _secret_statements(assembly.dev, fn["Properties"]["Role"])
        assert sorted(cfn.actions(statement)) == sorted(READ), name
        assert cfn.resources(statement) == [cfn.ref(secret_id)], name
    assert "ANTHROPIC_API_KEY" not in ",".join(key for keys in FUNCTION_SECRETS.values() for key in keys)
    assert FUNCTION_SECRETS["github"] == ("GITHUB_TOKEN",)


def test_the_worker_container_gets_its_keys_from_the_secret_at_start(assembly: Assembly) -> None:
    secret_id, _ = cfn.one(assembly.dev, "AWS::SecretsManager::Secret")
    container = _job(assembly.dev)
    # ECS resolves `valueFrom` (the secret's ARN, then the JSON key) when the task starts
    assert container["Secrets"] == [
        {"Name": name, "ValueFrom": {"Fn::Join": ["", [cfn.ref(secret_id), f":{name}::"]]}}
        for name in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN")
    ]
    assert not {item["Name"] for item in container["Environment"]} & set(SECRET_VARIABLES)
    # The execution role (ECS's, at start) reads the secret; the job role (the worker's code) does not
    (statement,) = _secret_statements(assembly.dev, container["ExecutionRoleArn"])
    assert cfn.resources(statement) == [cfn.ref(secret_id)]
    assert _secret_statements(assembly.dev, container["JobRoleArn"]) == []


def test_an_existing_secret_is_used_as_is(assembly: Assembly) -> None:
    # GIVEN -c secret=ARN: no secret of the stack's own
    template = assembly.existing_secret
    assert cfn.find(template, "AWS::SecretsManager::Secret") == {}
    # THEN the functions and the worker read that one
    for name in FUNCTION_SECRETS:
        _, fn = cfn.function(template, HANDLERS[name])
        assert cfn.environment(fn)["CODY_BATCH_SECRET_ARN"] == EXISTING_SECRET, name
        (statement,) = _secret_statements(template, fn["Properties"]["Role"])
        assert cfn.resources(statement) == [EXISTING_SECRET], name
    values = [item["ValueFrom"] for item in _job(template)["Secrets"]]
    assert values == [f"{EXISTING_SECRET}:ANTHROPIC_API_KEY::", f"{EXISTING_SECRET}:GITHUB_TOKEN::"]

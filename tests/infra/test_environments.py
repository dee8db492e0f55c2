"""Environments from CDK context, and secrets that come only from the deploying shell."""

from __future__ import annotations

import pytest

from infra.environments import ContextError, resolve
from infra.functions import HANDLERS
from tests.infra import cfn
from tests.infra.conftest import SECRETS, Assembly


def test_no_secret_reaches_a_template_when_the_shell_has_none(assembly: Assembly) -> None:
    for template_file in assembly.template_files():
        text = template_file.read_text()
        for name, value in SECRETS.items():
            if "secrets" in template_file.name:
                continue
            assert name not in text, f"{name} in {template_file.name}"
            assert value not in text


def test_shell_secrets_reach_the_worker_and_the_functions_only_as_each_needs(assembly: Assembly) -> None:
    job = cfn.environment(cfn.one(assembly.with_secrets, "AWS::Batch::JobDefinition")[1])
    assert job["ANTHROPIC_API_KEY"] == SECRETS["ANTHROPIC_API_KEY"]
    assert job["GITHUB_TOKEN"] == SECRETS["GITHUB_TOKEN"]
    assert "CODY_BATCH_API_TOKEN" not in job
    assert "CODY_BATCH_GITHUB_WEBHOOK_SECRET" not in job
    for name, handler in HANDLERS.items():
        env = cfn.environment(cfn.function(assembly.with_secrets, handler)[1])
        assert "ANTHROPIC_API_KEY" not in env, "the API never calls Claude"
        assert env["CODY_BATCH_API_TOKEN"] == SECRETS["CODY_BATCH_API_TOKEN"]
        assert env["GITHUB_TOKEN"] == SECRETS["GITHUB_TOKEN"]
        # Only the function that verifies GitHub's deliveries holds their secret.
        webhook = env.get("CODY_BATCH_GITHUB_WEBHOOK_SECRET")
        assert webhook == (SECRETS["CODY_BATCH_GITHUB_WEBHOOK_SECRET"] if name == "http" else None), name


def test_the_refresh_rate_is_whole_minutes_and_off_at_zero_or_with_a_webhook_secret() -> None:
    assert resolve({}, {}).refresh_minutes == 5  # the setting's default, 300 s
    assert resolve({"pullRequestRefreshSeconds": "90"}, {}).refresh_minutes == 2
    assert resolve({"pullRequestRefreshSeconds": 1}, {}).refresh_minutes == 1
    assert resolve({"pullRequestRefreshSeconds": 0}, {}).refresh_minutes is None
    assert resolve({}, {"CODY_BATCH_GITHUB_WEBHOOK_SECRET": "s"}).refresh_minutes is None


@pytest.mark.parametrize("value", ["-5", "soon", "nan"])
def test_a_bad_refresh_interval_is_refused(value: str) -> None:
    with pytest.raises(ContextError, match="pullRequestRefreshSeconds"):
        resolve({"pullRequestRefreshSeconds": value}, {})


def test_unknown_environment_is_refused_with_the_choices() -> None:
    with pytest.raises(ContextError, match=r"dev\|prod"):
        resolve({"env": "staging"}, {})


def test_context_overrides_allowlist_model_and_alarm_email() -> None:
    environment = resolve(
        {
            "env": "prod",
            "allowedRepos": "github.com/a/*, github.com/b/*",
            "model": "claude-opus-5-5",
            "alarmEmail": "x@y.z",
        },
        {"GITHUB_TOKEN": "t", "UNRELATED": "u"},
    )
    assert environment.name == "prod"
    assert environment.allowed_repos == ("github.com/a/*", "github.com/b/*")
    assert environment.model == "claude-opus-5-5"
    assert environment.alarm_email == "x@y.z"
    assert dict(environment.secrets) == {"GITHUB_TOKEN": "t"}

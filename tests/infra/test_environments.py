"""Environments from CDK context."""

from __future__ import annotations

import pytest

from infra.environments import ContextError, resolve


def test_the_refresh_rate_is_whole_minutes_and_off_at_zero() -> None:
    assert resolve({}).refresh_minutes == 5  # the setting's default, 300 s
    assert resolve({"pullRequestRefreshSeconds": "90"}).refresh_minutes == 2
    assert resolve({"pullRequestRefreshSeconds": 1}).refresh_minutes == 1
    assert resolve({"pullRequestRefreshSeconds": 0}).refresh_minutes is None


@pytest.mark.parametrize("value", ["-5", "soon", "nan"])
def test_a_bad_refresh_interval_is_refused(value: str) -> None:
    with pytest.raises(ContextError, match="pullRequestRefreshSeconds"):
        resolve({"pullRequestRefreshSeconds": value})


def test_unknown_environment_is_refused_with_the_choices() -> None:
    with pytest.raises(ContextError, match=r"dev\|prod"):
        resolve({"env": "staging"})


def test_context_overrides_allowlist_model_alarm_email_and_secret() -> None:
    environment = resolve(
        {
            "env": "prod",
            "allowedRepos": "github.com/a/*, github.com/b/*",
            "model": "claude-opus-5-5",
            "alarmEmail": "x@y.z",
            "secret": "acme/cody-batch",
        }
    )
    assert environment.name == "prod"
    assert environment.allowed_repos == ("github.com/a/*", "github.com/b/*")
    assert environment.model == "claude-opus-5-5"
    assert environment.alarm_email == "x@y.z"
    assert environment.secret == "acme/cody-batch"
    assert resolve({}).secret is None

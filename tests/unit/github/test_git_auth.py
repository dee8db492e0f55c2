"""with_credentials: real git gets the token from the environment for github.com only, and from nowhere else."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from worker.git_auth import TOKEN_VARIABLE, redact, with_credentials
from worker.git_process import base_environment

SENTINEL = "ghp_SENTINEL_0123456789"


def credential_fill(env: dict[str, str], host: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Ask real git for credentials the way a clone or push over https would."""
    return subprocess.run(
        ["git", "credential", "fill"],
        input=f"protocol=https\nhost={host}\n\n",
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_git_gets_the_token_for_github_only(tmp_path: Path) -> None:
    # GIVEN the environment for a token
    env = with_credentials(base_environment(), SENTINEL)
    # WHEN git asks for github.com credentials / THEN the helper answers with the token
    answer = credential_fill(env, "github.com", tmp_path)
    assert answer.returncode == 0
    assert f"password={SENTINEL}" in answer.stdout and "username=x-access-token" in answer.stdout
    # AND another host gets nothing, without a prompt that would hang a worker
    other = credential_fill(env, "evil.example.com", tmp_path)
    assert other.returncode != 0 and SENTINEL not in other.stdout + other.stderr


def test_the_token_is_only_in_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN secrets in the worker's environment
    monkeypatch.setenv("GITHUB_TOKEN", SENTINEL)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    # WHEN the environment of a git call with the token is built
    env = with_credentials(base_environment(), SENTINEL)
    # THEN only our variable holds it; the config entries name the variable, not the value
    holders = [key for key, value in env.items() if SENTINEL in value]
    assert holders == [TOKEN_VARIABLE]
    assert "ANTHROPIC_API_KEY" not in env and "GITHUB_TOKEN" not in env and env["GIT_TERMINAL_PROMPT"] == "0"


def test_without_a_token_git_is_anonymous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an askpass program and a stale token variable in the worker's environment
    monkeypatch.setenv("GIT_ASKPASS", "/bin/echo")
    monkeypatch.setenv(TOKEN_VARIABLE, "stale")
    # WHEN git asks for credentials without a token / THEN it gets none, and nothing prompts
    env = with_credentials(base_environment(), None)
    assert TOKEN_VARIABLE not in env and "GIT_ASKPASS" not in env
    answer = credential_fill(env, "github.com", tmp_path)
    assert answer.returncode != 0 and "password=" not in answer.stdout


def test_url_rewrites_come_before_the_token_helper() -> None:
    # GIVEN an environment carrying one git config entry (e.g. a URL rewrite)
    base = base_environment([("url.x.insteadOf", "y")])
    # WHEN the token entries are added / THEN they come after it, the helper last
    env = with_credentials(base, SENTINEL)
    count = int(env["GIT_CONFIG_COUNT"])
    keys = [env[f"GIT_CONFIG_KEY_{i}"] for i in range(count)]
    assert "url.x.insteadOf" in keys
    assert keys[-1] == "credential.https://github.com.helper"


def test_redact_replaces_every_secret() -> None:
    assert redact(f"a {SENTINEL} b {SENTINEL} sk-1", SENTINEL, None, "sk-1", "") == "a *** b *** ***"

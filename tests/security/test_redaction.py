"""Tool output hides the values of real secrets only: ordinary settings stay readable and editable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from worker.agent.tools import REDACTED, ToolBox

ORDINARY = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "CODY_BATCH_HOST": "127.0.0.1",
    "CODY_BATCH_DATA_DIR": "/srv/cody-batch-data",
    "GITHUB_REPOSITORY": "acme/widgets",
    "ANTHROPIC_BASE_URL": "http://localhost:4000",
    "SSH_AUTH_SOCK": "/run/user/1000/agent.sock",
}

SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-secretvalue",
    "GITHUB_TOKEN": "ghp_secretvalue0123",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIexample",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEexample",
    "CODY_BATCH_API_TOKEN": "cody-api-token-value",
    "DB_PASSWORD": "correct-horse-battery",
    "NPMTOKEN": "npm_0123456789abcdef",
}


def call(box: ToolBox, **tool_input: Any) -> dict[str, Any]:
    return box.run({"type": "tool_use", "id": "t", "name": "str_replace_based_edit_tool", "input": tool_input})


@pytest.mark.parametrize(("name", "value"), list(ORDINARY.items()))
def test_ordinary_settings_are_shown_and_can_be_edited(
    name: str, value: str, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variable that is no credential in the worker's environment, and a file holding its value
    monkeypatch.setenv(name, value)
    repo = make_repo("config", {"settings.toml": f'value = "{value}"\n'})
    box = ToolBox(repo)
    # WHEN Claude views the file, then edits the line it saw
    shown = call(box, command="view", path="settings.toml")["content"]
    edited = call(box, command="str_replace", path="settings.toml", old_str=f'"{value}"', new_str='"changed"')
    # THEN it saw the value as it is, and the edit built from it applied
    assert value in shown and REDACTED not in shown
    assert "is_error" not in edited
    assert (repo / "settings.toml").read_text() == 'value = "changed"\n'


@pytest.mark.parametrize(("name", "value"), list(SECRETS.items()))
def test_credential_values_are_hidden(
    name: str, value: str, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a credential in the worker's environment, and a file that happens to hold it
    monkeypatch.setenv(name, value)
    repo = make_repo("leaky", {"notes.txt": f"credential: {value}\n"})
    # WHEN Claude views the file THEN the value is hidden
    shown = call(ToolBox(repo), command="view", path="notes.txt")["content"]
    assert value not in shown and f"credential: {REDACTED}" in shown


def test_the_runs_own_secrets_are_hidden_even_outside_the_environment(make_repo: Callable[..., Path]) -> None:
    # GIVEN a key the run was given directly (not through the environment)
    key = "sk-ant-passed-in-settings"
    repo = make_repo("given", {"notes.txt": f"{key}\n"})
    # WHEN Claude views a file holding it THEN it is hidden
    shown = call(ToolBox(repo, secrets=[key, None]), command="view", path="notes.txt")["content"]
    assert key not in shown and REDACTED in shown

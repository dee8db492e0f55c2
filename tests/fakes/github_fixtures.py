"""Pytest fixtures around the fake GitHub: the server, settings pointing at it, a redirected clone."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import Settings
from tests.fakes.github_server import FakeGitHub
from worker.workspace import Workspace, clone

TOKEN = "test-token"


@pytest.fixture
def fake_github(tmp_path: Path) -> Iterator[FakeGitHub]:
    """A running fake GitHub; git's https://github.com/ URLs reach its bare repositories."""
    with FakeGitHub(tmp_path / "github", token=TOKEN) as fake:
        fake.install_git_redirect(Path(os.environ["GIT_CONFIG_GLOBAL"]))
        yield fake


@pytest.fixture
def github_settings(settings: Settings, fake_github: FakeGitHub) -> Settings:
    """Settings with a token, the fake's API URL, and github.com/acme/* allowed."""
    return settings.model_copy(
        update={
            "github_api_url": fake_github.url,
            "github_token": SecretStr(TOKEN),
            "allowed_repos": [*settings.allowed_repos, "github.com/acme/*"],
            "github_max_wait": 5.0,
            # Pacing is tested on its own (test_pacing.py); elsewhere a second per write only slows the suite.
            "github_write_interval": 0.05,
            "public_url": "https://cody.example.com",
        }
    )


@pytest.fixture
def clone_of(tmp_path: Path) -> Callable[..., Workspace]:
    """A worker's clone of a github.com repository (through the redirect) with `changes` in its working tree."""

    def make(full_name: str, changes: dict[str, str], name: str = "workspace") -> Workspace:
        workspace = clone(f"https://github.com/{full_name}.git", tmp_path / name)
        for rel, content in changes.items():
            (workspace.path / rel).parent.mkdir(parents=True, exist_ok=True)
            (workspace.path / rel).write_text(content)
        return workspace

    return make

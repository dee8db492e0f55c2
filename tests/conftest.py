"""Shared fixtures: settings in a temp data dir, a SQLite store, real git repositories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import Settings

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's keys, tokens or git config."""
    for name in list(os.environ):
        if name.startswith(("CODY_BATCH_", "ANTHROPIC_", "GITHUB_", "AWS_BATCH_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig-global"))
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repos_dir(tmp_path: Path) -> Path:
    path = tmp_path / "repos"
    path.mkdir()
    return path.resolve()


@pytest.fixture
def settings(tmp_path: Path, repos_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allowed_repos=[f"{repos_dir}/*"])


@pytest.fixture
def store(settings: Settings) -> Iterator[object]:
    from store.sqlite import SqliteStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sqlite_store = SqliteStore(settings.database_path)
    yield sqlite_store
    sqlite_store.close()


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`, returning stdout; raises on failure."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def init_repo(path: Path, files: dict[str, str | bytes]) -> Path:
    """A real git repository at `path` with `files` in one commit on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for rel, content in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial commit")
    return path.resolve()


@pytest.fixture
def make_repo(repos_dir: Path) -> Callable[..., Path]:
    def make(name: str = "repo", files: dict[str, str | bytes] | None = None) -> Path:
        return init_repo(repos_dir / name, files or {"README.md": f"# {name}\n", "app.py": "print('hi')\n"})

    return make

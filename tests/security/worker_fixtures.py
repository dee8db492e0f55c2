"""What the worker's hostile-case tests share: a git that records every call, secrets in the environment."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Secrets in the worker's own environment, as a server started with real keys has them.
ANTHROPIC_KEY = "sk-ant-hostile-0123456789abcdef"
GITHUB_TOKEN = "ghp_hostile0123456789abcdef"


@dataclass
class GitCall:
    """One git process as the spy saw it: its arguments and its whole environment."""

    argv: str
    env: dict[str, str]


class GitSpy:
    """Reads what the recording `git` wrapper logged."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.ignored: set[str] = set()

    def forget(self) -> None:
        """Leave out the calls so far (the test's own, setting up repositories)."""
        self.ignored = {p.name for p in self.logs.glob("call-*")}

    def calls(self) -> list[GitCall]:
        """Every git call since `forget`, oldest first."""
        found = []
        records = [p for p in self.logs.glob("call-*") if p.name not in self.ignored]
        for record in sorted(records, key=lambda p: int(p.name.split("-")[1])):
            argv, _, env = record.read_bytes().decode(errors="replace").partition("\n")
            pairs = (item.partition("=") for item in env.split("\0") if "=" in item)
            found.append(GitCall(argv, {name: value for name, _, value in pairs}))
        return found


@pytest.fixture
def git_spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitSpy:
    """A `git` first on PATH that records each call's argv and environment, then runs the real git."""
    logs = tmp_path / "git-spy"
    (logs / "bin").mkdir(parents=True)
    real = shutil.which("git")
    assert real is not None
    spy = logs / "bin" / "git"
    # mktemp-free numbering: $$ is unique among live processes and the log is read after they end.
    spy.write_text(
        "#!/bin/sh\n"
        f'n=$(date +%s%N)$$; f="{logs}/call-$n"\n'
        'printf \'%s\\n\' "$*" > "$f"; env -0 >> "$f"\n'
        f'exec {real} "$@"\n'
    )
    spy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy.parent}:{os.environ['PATH']}")
    return GitSpy(logs)


@pytest.fixture
def worker_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys a real server has in its environment."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GH_TOKEN", GITHUB_TOKEN)

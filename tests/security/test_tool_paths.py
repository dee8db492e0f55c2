"""Names git treats as `.git` are refused by the file tool, as git refuses them; other odd names are kept exactly."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.models import RunStatus
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, bash, edit, tool_results, tool_turn
from tests.integration.worker.conftest import greeting_edit, run_all, submit
from worker.agent.tools import ToolBox

GIT_VARIANTS = [
    ".GIT/config",
    "sub/.Git/x",
    ".git./config",
    ".git /hooks/pre-commit",
    ".git. . /x",
    "git~1/config",
    "GIT~1/x",
    ".git::$INDEX_ALLOCATION/config",
    "a\\.git\\config",
    "src\\GIT~1",
    ".g\u200cit/config",
    "\ufeff.git/x",
    ".GI\u200dT/x",
    "deep/er/.gIt\u200e/x",
]

KEPT_EXACTLY = [
    " leading.txt",
    "trailing.txt ",
    "dir /file.txt",
    " both ",
    ".github/workflows/ci.yml",
    ".gitignore",
    ".gitx/y",
    "git~2/x",
    "my.git/x",
    ".git-blame-ignore-revs",
]


def git_accepts(repo: Path, path: str) -> bool:
    """Whether real git, guarding names as on Windows and macOS, would add `path` to the index."""
    blob = (
        subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"x", capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )
    done = subprocess.run(
        ["git", "-c", "core.protectNTFS=true", "-c", "core.protectHFS=true", "update-index", "--add", "--cacheinfo",
         f"100644,{blob},{path}"],
        cwd=repo,
        capture_output=True,
    )  # fmt: skip
    return done.returncode == 0


def create(box: ToolBox, path: str) -> dict[str, Any]:
    return box.run(
        {"type": "tool_use", "id": "t", "name": "str_replace_based_edit_tool",
         "input": {"command": "create", "path": path, "file_text": "x\n"}}
    )  # fmt: skip


@pytest.mark.parametrize("path", GIT_VARIANTS)
def test_names_git_treats_as_dot_git_are_refused_like_git_does(path: str, make_repo: Callable[..., Path]) -> None:
    # GIVEN a repository and the file tool
    repo = make_repo("names")
    before = sorted(p.name for p in repo.iterdir())
    # WHEN Claude creates a file under a name git treats as .git
    result = create(ToolBox(repo), path)
    # THEN git itself refuses the name, the tool refuses it as a recoverable error, and nothing was written
    assert not git_accepts(repo, path)
    assert result["is_error"] and ".git" in result["content"]
    assert sorted(p.name for p in repo.iterdir()) == before


@pytest.mark.parametrize("path", KEPT_EXACTLY)
def test_other_odd_names_are_written_exactly_as_given(path: str, make_repo: Callable[..., Path]) -> None:
    # GIVEN a repository and the file tool
    repo = make_repo("names")
    # WHEN Claude creates a file with a name git accepts (spaces around it included)
    result = create(ToolBox(repo), path)
    # THEN it is written under exactly that name, nothing stripped
    assert git_accepts(repo, path)
    assert "is_error" not in result, result["content"]
    assert (repo / path).read_text() == "x\n"


def test_a_refused_name_is_an_error_the_run_recovers_from(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a prompt-injected Claude that first writes .GIT/config, then does the task
    job = submit(model_settings, store, [make_repo("injected")])
    fake_model.script([tool_turn(edit("create", ".GIT/config", file_text="[core]\n")), *greeting_edit()])
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN Claude was told why, the run succeeded, and the patch holds only the real change
    refused = tool_results(fake_model.requests[1])[0]
    assert refused.get("is_error") and "treats as .git" in refused["content"]
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.patch is not None and [f.path for f in run.patch.files] == ["app.py"]


def test_a_command_that_creates_such_a_name_fails_the_run_clearly(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN commands allowed, and Claude creating sub/.Git/x with a command
    settings = model_settings.model_copy(update={"allow_commands": True})
    job = submit(settings, store, [make_repo("commanded")])
    fake_model.script([tool_turn(bash("mkdir -p sub/.Git && echo x > sub/.Git/x")), *greeting_edit()])
    # WHEN the run is worked
    [run] = run_all(settings, store, job)
    # THEN it fails with its own kind naming the path, not as an internal error
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.kind == "FORBIDDEN_PATH" and "sub/.Git/x" in run.error.message

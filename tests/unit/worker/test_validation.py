"""Validation: syntax of changed files, check command before/after, verdicts and feedback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.models import Verdict
from worker.patch import changed_paths
from worker.validation import run_check, sandboxed_runner, syntax_error, validate
from worker.workspace import checkout

RUNNER = sandboxed_runner(timeout=30)


@pytest.mark.parametrize(
    ("path", "text", "ok"),
    [
        ("a.py", "def f():\n    return 1\n", True),
        ("a.py", "def f(:\n", False),
        ("a.py", "return 1\n", False),
        ("a.json", '{"a": 1}', True),
        ("a.json", '{"a": 1,}', False),
        ("a.yaml", "a: 1\n---\nb: !Ref Thing\n", True),
        ("a.yml", "a: [1\n", False),
        ("a.toml", 'a = "x"\n', True),
        ("a.toml", "a = \n", False),
        ("a.txt", "anything {", True),
    ],
)
def test_syntax_error_by_language(path: str, text: str, ok: bool) -> None:
    # WHEN a file's text is checked THEN only broken files of known languages fail
    assert (syntax_error(path, text) is None) is ok


def test_broken_python_is_a_regression_with_feedback(make_repo: Callable[..., Path]) -> None:
    # GIVEN a change that breaks a Python file that parsed before
    with checkout(str(make_repo("py"))) as workspace:
        (workspace.path / "app.py").write_text("print('hi'\n")
        # WHEN it is validated without a check command
        outcome = validate(workspace, changed_paths(workspace), command=None, before=None, runner=None)
    # THEN the verdict is REGRESSED and Claude is told which file
    assert outcome.validation.verdict is Verdict.REGRESSED
    assert [c.status for c in outcome.validation.checks] == ["FAILED"]
    assert outcome.feedback is not None and "app.py" in outcome.feedback


def test_a_file_that_was_already_broken_is_not_blamed(make_repo: Callable[..., Path]) -> None:
    # GIVEN a JSON file that did not parse before, edited but still broken
    with checkout(str(make_repo("js", {"data.json": "{oops"}))) as workspace:
        (workspace.path / "data.json").write_text("{still oops")
        outcome = validate(workspace, changed_paths(workspace), command=None, before=None, runner=None)
    # THEN the check fails but the change is not a regression
    assert outcome.validation.verdict is Verdict.UNVERIFIED
    assert outcome.validation.checks[0].status == "FAILED"
    assert outcome.feedback is None


CHECK = "grep -q good app.py"


@pytest.mark.parametrize(
    ("before_text", "after_text", "expected"),
    [
        ("good\n", "good and new\n", Verdict.VERIFIED),
        ("bad\n", "good now\n", Verdict.VERIFIED),
        ("good\n", "bad\n", Verdict.REGRESSED),
        ("bad\n", "still bad\n", Verdict.PRE_EXISTING_FAILURE),
    ],
)
def test_check_command_verdicts(
    make_repo: Callable[..., Path], before_text: str, after_text: str, expected: Verdict
) -> None:
    # GIVEN a repository and a check command run on the fresh clone
    with checkout(str(make_repo("c", {"app.py": f"# {before_text}"}))) as workspace:
        before = run_check(RUNNER, workspace, CHECK)
        # WHEN the change is made and validated with the same command
        (workspace.path / "app.py").write_text(f"# {after_text}")
        outcome = validate(workspace, changed_paths(workspace), command=CHECK, before=before, runner=RUNNER)
    # THEN the verdict follows the before/after results, and a failure is fed back
    assert outcome.validation.verdict is expected
    assert [c.name for c in outcome.validation.checks][-2:] == [f"before: {CHECK}", f"after: {CHECK}"]
    assert (outcome.feedback is None) is (expected is Verdict.VERIFIED)


def test_check_leaves_no_trace_in_the_workspace(make_repo: Callable[..., Path]) -> None:
    # GIVEN a check command that writes files and edits a tracked one
    with checkout(str(make_repo("t"))) as workspace:
        (workspace.path / "app.py").write_text("print('changed')\n")
        result = run_check(RUNNER, workspace, "echo out > build.txt; echo junk >> app.py; echo hello")
        # THEN its output is captured and the working tree is as the agent left it
        assert result.passed and "hello" in result.output
        assert not (workspace.path / "build.txt").exists()
        assert (workspace.path / "app.py").read_text() == "print('changed')\n"


def test_check_command_sees_no_secrets(make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an API key in the worker's environment
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-sentinel-123")
    with checkout(str(make_repo("s"))) as workspace:
        # WHEN a check command prints its environment
        result = run_check(RUNNER, workspace, "env; exit 3")
    # THEN the key is absent and the exit code is kept
    assert result.exit_code == 3
    assert "sk-ant-sentinel-123" not in result.output

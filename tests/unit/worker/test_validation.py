"""Validation: syntax of changed files, check command before/after, verdicts and feedback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.models import ValidationCheck, Verdict
from worker.agent.command import TIMED_OUT
from worker.patch import changed_paths
from worker.validation import (
    MAX_SYNTAX_BYTES,
    MAX_SYNTAX_FILES,
    CheckRun,
    CommandRunner,
    run_check,
    sandboxed_runner,
    syntax_checks,
    syntax_error,
    validate,
    verdict,
)
from worker.workspace import checkout


def runner() -> CommandRunner:
    """The runner checks use, made inside each test (so mutation testing sees which tests reach it)."""
    return sandboxed_runner(timeout=30)


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
    assert outcome.validation.checks[0].status == "FAILED" and outcome.validation.checks[0].pre_existing
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
        before = run_check(runner(), workspace, CHECK)
        # WHEN the change is made and validated with the same command
        (workspace.path / "app.py").write_text(f"# {after_text}")
        outcome = validate(workspace, changed_paths(workspace), command=CHECK, before=before, runner=runner())
    # THEN the verdict follows the before/after results, and a failure is fed back
    assert outcome.validation.verdict is expected
    assert [c.name for c in outcome.validation.checks][-2:] == [f"before: {CHECK}", f"after: {CHECK}"]
    assert outcome.validation.checks[-1].pre_existing is (expected is Verdict.PRE_EXISTING_FAILURE)
    assert (outcome.feedback is None) is (expected is Verdict.VERIFIED)


def test_check_leaves_no_trace_in_the_workspace(make_repo: Callable[..., Path]) -> None:
    # GIVEN a check command that writes files and edits a tracked one
    with checkout(str(make_repo("t"))) as workspace:
        (workspace.path / "app.py").write_text("print('changed')\n")
        result = run_check(runner(), workspace, "echo out > build.txt; echo junk >> app.py; echo hello")
        # THEN its output is captured and the working tree is as the agent left it
        assert result.passed and "hello" in result.output
        assert not (workspace.path / "build.txt").exists()
        assert (workspace.path / "app.py").read_text() == "print('changed')\n"


def test_check_command_sees_no_secrets(make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an API key in the worker's environment
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-sentinel-123")
    with checkout(str(make_repo("s"))) as workspace:
        # WHEN a check command prints its environment
        result = run_check(runner(), workspace, "env; exit 3")
    # THEN the key is absent and the exit code is kept
    assert result.exit_code == 3
    assert "sk-ant-sentinel-123" not in result.output


def test_feedback_says_what_broke_and_whether_it_passed_before(make_repo: Callable[..., Path]) -> None:
    # GIVEN a change that breaks the check command and a Python file that parsed before
    with checkout(str(make_repo("fb", {"app.py": "# good\n"}))) as workspace:
        before = run_check(runner(), workspace, CHECK)
        (workspace.path / "app.py").write_text("# bad\ndef f(:\n")
        outcome = validate(workspace, changed_paths(workspace), command=CHECK, before=before, runner=runner())
    # THEN Claude hears both problems, in this order, and what to do
    error = syntax_error("app.py", "# bad\ndef f(:\n")
    assert outcome.feedback == (
        f"These files no longer parse after your change:\n- app.py: {error}"
        f"\n\nThe check command `{CHECK}` failed (exit code 1). It passed before your change.\n"
        "\n\nPlease fix this, then end your turn with a short summary."
    )
    assert [(c.name, c.status) for c in outcome.validation.checks] == [
        ("syntax app.py", "FAILED"),
        (f"before: {CHECK}", "PASSED"),
        (f"after: {CHECK}", "FAILED"),
    ]


def test_feedback_on_a_check_that_failed_before_too(make_repo: Callable[..., Path]) -> None:
    with checkout(str(make_repo("pre", {"app.py": "# bad\n"}))) as workspace:
        before = run_check(runner(), workspace, f"{CHECK} || (echo missing; exit 4)")
        (workspace.path / "app.py").write_text("# still bad\n")
        command = f"{CHECK} || (echo missing; exit 4)"
        outcome = validate(workspace, changed_paths(workspace), command=command, before=before, runner=runner())
    assert outcome.validation.verdict is Verdict.PRE_EXISTING_FAILURE
    assert outcome.feedback == (
        f"The check command `{command}` failed (exit code 4). It failed before your change too; fix it if that "
        "is part of the task, otherwise say it is unrelated.\nmissing\n"
        "\n\nPlease fix this, then end your turn with a short summary."
    )


def test_syntax_is_checked_only_on_regular_small_files_of_known_languages(make_repo: Callable[..., Path]) -> None:
    # GIVEN a change adding a symlinked, an oversized, an upper-case-suffixed and an unknown-language file
    with checkout(str(make_repo("odd"))) as workspace:
        (workspace.path / "big.json").write_text("[" + "1," * (MAX_SYNTAX_BYTES // 2) + "1]")
        (workspace.path / "link.py").symlink_to("app.py")
        (workspace.path / "LOUD.PY").write_text("def f(:\n")
        (workspace.path / "notes.txt").write_text("def f(:\n")
        checks = syntax_checks(workspace, changed_paths(workspace))
    # THEN the symlink and the oversized file are skipped, the suffix's case does not matter, text is not checked
    assert {(c.name, c.status, c.output) for c in checks} == {
        ("syntax big.json", "SKIPPED", "not a regular small file"),
        ("syntax link.py", "SKIPPED", "not a regular small file"),
        ("syntax LOUD.PY", "FAILED", syntax_error("LOUD.PY", "def f(:\n")),
    }


def test_a_new_file_that_does_not_parse_is_a_regression(make_repo: Callable[..., Path]) -> None:
    with checkout(str(make_repo("new"))) as workspace:
        (workspace.path / "new.toml").write_text("a = \n")
        outcome = validate(workspace, changed_paths(workspace), command=None, before=None, runner=None)
    assert outcome.validation.verdict is Verdict.REGRESSED
    assert not outcome.validation.checks[0].pre_existing


def test_only_the_first_files_up_to_the_limit_are_checked(make_repo: Callable[..., Path]) -> None:
    paths = [f"f{i:03}.json" for i in range(MAX_SYNTAX_FILES + 1)]
    with checkout(str(make_repo("many", dict.fromkeys(paths, "{}")))) as workspace:
        checks = syntax_checks(workspace, ["notes.txt", *paths])
    assert [c.name for c in checks] == [f"syntax {p}" for p in paths[:MAX_SYNTAX_FILES]]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo out", (0, "out\n")),
        ("echo out; exit 3", (3, "out\n")),
        ("true", (0, "")),
        ("printf 'no newline'; exit 255", (255, "no newline")),
        ("echo '[exit code 5]'", (0, "[exit code 5]\n")),
    ],
)
def test_the_sandboxed_runner_returns_the_exit_code_and_the_output_apart(
    command: str, expected: tuple[int, str], tmp_path: Path
) -> None:
    result = runner()(command, tmp_path)
    assert (result.exit_code, result.output) == expected and not result.timed_out


def test_a_check_that_outlives_its_time_is_exit_code_124(tmp_path: Path) -> None:
    result = sandboxed_runner(timeout=0.5)("sleep 30", tmp_path)
    assert result.timed_out and result.exit_code == TIMED_OUT == 124
    assert "timed out after 0.5 seconds" in result.output


@pytest.mark.parametrize(
    ("before", "after", "syntax_status", "expected"),
    [
        (None, None, "PASSED", Verdict.UNVERIFIED),
        (0, None, "PASSED", Verdict.UNVERIFIED),
        (None, 0, "PASSED", Verdict.UNVERIFIED),
        (0, 0, "FAILED", Verdict.REGRESSED),
        (1, 0, "PASSED", Verdict.VERIFIED),
    ],
)
def test_verdicts_without_a_check_run_or_with_broken_syntax(
    before: int | None, after: int | None, syntax_status: str, expected: Verdict
) -> None:
    checks = [ValidationCheck(name="syntax a.py", status=syntax_status, output="SyntaxError")]

    def run(code: int | None) -> CheckRun | None:
        return None if code is None else CheckRun(code, "")

    assert verdict(run(before), run(after), checks) is expected


def test_the_checks_keep_their_output_and_only_a_failure_before_and_after_is_pre_existing(
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a check that fails before and after the change, saying so
    command = "echo still failing; exit 2"
    with checkout(str(make_repo("out", {"app.py": "# x\n"}))) as workspace:
        before = run_check(runner(), workspace, command)
        (workspace.path / "app.py").write_text("# y\n")
        outcome = validate(workspace, changed_paths(workspace), command=command, before=before, runner=runner())
    # THEN each check keeps its output, and only the run after the change is marked pre-existing
    checks = [(c.name, c.status, c.output, c.pre_existing) for c in outcome.validation.checks]
    assert checks == [
        ("syntax app.py", "PASSED", "", False),
        (f"before: {command}", "FAILED", "still failing\n", False),
        (f"after: {command}", "FAILED", "still failing\n", True),
    ]


@pytest.mark.parametrize(("command", "with_runner"), [("exit 1", False), (None, True)])
def test_the_check_runs_only_with_both_a_command_and_a_runner(
    make_repo: Callable[..., Path], command: str | None, with_runner: bool
) -> None:
    # GIVEN a change, and a check command without a runner (commands off) or a runner without a command
    with checkout(str(make_repo("nocheck"))) as workspace:
        (workspace.path / "app.py").write_text("print('changed')\n")
        outcome = validate(
            workspace, changed_paths(workspace), command=command, before=None, runner=runner() if with_runner else None
        )
    # THEN only the syntax is checked, and it passes
    assert [c.name for c in outcome.validation.checks] == ["syntax app.py"]
    assert outcome.feedback is None


def test_every_file_that_no_longer_parses_is_listed_on_its_own_line(make_repo: Callable[..., Path]) -> None:
    # GIVEN a change that breaks two files that parsed before
    with checkout(str(make_repo("two", {"a.py": "x = 1\n", "b.json": "{}"}))) as workspace:
        (workspace.path / "a.py").write_text("x = (\n")
        (workspace.path / "b.json").write_text("{,}")
        outcome = validate(workspace, changed_paths(workspace), command=None, before=None, runner=None)
    # THEN the feedback lists both, one per line
    a, b = syntax_error("a.py", "x = (\n"), syntax_error("b.json", "{,}")
    assert outcome.feedback is not None
    assert outcome.feedback.startswith(
        f"These files no longer parse after your change:\n- a.py: {a}\n- b.json: {b}\n\n"
    )


def test_a_file_of_exactly_the_largest_size_and_one_not_in_utf8_are_still_checked(
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a change adding a Python file of exactly the size limit, and one with Latin-1 bytes in a comment
    with checkout(str(make_repo("edge"))) as workspace:
        (workspace.path / "full.py").write_text("#" * (MAX_SYNTAX_BYTES - 1) + "\n")
        (workspace.path / "latin.py").write_bytes(b"# caf\xe9\nx = 1\n")
        checks = syntax_checks(workspace, changed_paths(workspace))
    # THEN both are parsed (the odd bytes read as replacement characters) and pass
    assert {(c.name, c.status) for c in checks} == {("syntax full.py", "PASSED"), ("syntax latin.py", "PASSED")}


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        ("a.py", "def f(:\n", "SyntaxError"),
        ("a.json", "{,}", "JSONDecodeError"),
        ("a.toml", "a = \n", "TOMLDecodeError"),
    ],
)
def test_a_syntax_error_is_named_by_its_kind(path: str, text: str, kind: str) -> None:
    error = syntax_error(path, text)
    assert error is not None and error.startswith(f"{kind}: ")

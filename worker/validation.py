"""Checks of a run's change: syntax of changed files and the job's check command, before and after."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.models import CheckStatus, Validation, ValidationCheck, Verdict
from worker.agent.command import CommandResult, CommandTool
from worker.git_process import GitError
from worker.run_config import CommandSandbox
from worker.workspace import Workspace

MAX_SYNTAX_FILES = 200
MAX_SYNTAX_BYTES = 2_000_000

# (command, cwd) -> what the command did
CommandRunner = Callable[[str, Path], CommandResult]


def sandboxed_runner(timeout: float, sandbox: CommandSandbox | None = None) -> CommandRunner:
    """Check commands run exactly like the agent's command tool: scrubbed env, timeout, no network,
    the filesystem read-only but for the workspace, the private places hidden."""

    def run(command: str, cwd: Path) -> CommandResult:
        return CommandTool(cwd, timeout, sandbox).run(command)

    return run


class _LenientLoader(yaml.SafeLoader):
    """Safe YAML that accepts unknown tags (CloudFormation `!Ref`, Ansible `!vault`)."""


_LenientLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _python(text: str, name: str) -> None:
    compile(text, name, "exec", dont_inherit=True)


def _yaml(text: str, name: str) -> None:
    for _ in yaml.load_all(text, Loader=_LenientLoader):  # a SafeLoader subclass
        pass


def _toml(text: str, name: str) -> None:
    tomllib.loads(text)


def _json(text: str, name: str) -> None:
    json.loads(text)


PARSERS: dict[str, Callable[[str, str], None]] = {
    ".py": _python,
    ".json": _json,
    ".yaml": _yaml,
    ".yml": _yaml,
    ".toml": _toml,
}


def syntax_error(path: str, text: str) -> str | None:
    """Why `text` does not parse as the language of `path`, or None when it does (or is unknown)."""
    parser = PARSERS.get(Path(path).suffix.lower())
    if parser is None:
        return None
    try:
        parser(text, path)
    except (SyntaxError, ValueError, yaml.YAMLError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def _base_text(workspace: Workspace, path: str) -> str | None:
    try:
        # cat-file, not show: the blob as stored, never through a textconv driver.
        return workspace.git("cat-file", "blob", f"{workspace.base_commit}:{path}")
    except GitError:
        return None  # the file is new


def syntax_checks(workspace: Workspace, paths: list[str]) -> list[ValidationCheck]:
    """One check per changed file of a known language; a failure the base already had is noted."""
    checks = []
    for path in [p for p in paths if Path(p).suffix.lower() in PARSERS][:MAX_SYNTAX_FILES]:
        file = workspace.path / path
        if file.is_symlink() or not file.is_file() or file.stat().st_size > MAX_SYNTAX_BYTES:
            skipped = ValidationCheck(
                name=f"syntax {path}", status=CheckStatus.SKIPPED, output="not a regular small file"
            )
            checks.append(skipped)
            continue
        error = syntax_error(path, file.read_text(errors="replace"))
        if error is None:
            checks.append(ValidationCheck(name=f"syntax {path}", status=CheckStatus.PASSED))
            continue
        base = _base_text(workspace, path)
        pre_existing = base is not None and syntax_error(path, base) is not None
        checks.append(
            ValidationCheck(name=f"syntax {path}", status=CheckStatus.FAILED, output=error, pre_existing=pre_existing)
        )
    return checks


@dataclass(frozen=True)
class CheckRun:
    """One run of the job's check command."""

    exit_code: int
    output: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def as_check(self, name: str, pre_existing: bool = False) -> ValidationCheck:
        status = CheckStatus.PASSED if self.passed else CheckStatus.FAILED
        return ValidationCheck(name=name, status=status, output=self.output, pre_existing=pre_existing)


def run_check(runner: CommandRunner, workspace: Workspace, command: str) -> CheckRun:
    """Run the check command on every file, then put the working tree back as it was (build output, caches)."""
    workspace.expand()
    tree = workspace.snapshot()
    try:
        result = runner(command, workspace.path)
    finally:
        workspace.restore(tree)
    return CheckRun(result.exit_code, result.output)


def verdict(before: CheckRun | None, after: CheckRun | None, syntax: list[ValidationCheck]) -> Verdict:
    """The verdict of a change from the check runs and the syntax checks."""
    if any(_introduced(c) for c in syntax):
        return Verdict.REGRESSED
    if before is None or after is None:
        return Verdict.UNVERIFIED
    if after.passed:
        return Verdict.VERIFIED
    return Verdict.REGRESSED if before.passed else Verdict.PRE_EXISTING_FAILURE


def _introduced(check: ValidationCheck) -> bool:
    return check.status is CheckStatus.FAILED and not check.pre_existing


@dataclass
class Outcome:
    """The result of validating a change, and what Claude should hear when it failed."""

    validation: Validation
    feedback: str | None


def validate(
    workspace: Workspace,
    paths: list[str],
    *,
    command: str | None,
    before: CheckRun | None,
    runner: CommandRunner | None,
) -> Outcome:
    """Syntax checks of `paths` and, when there is a command and a runner, the check after the change."""
    syntax = syntax_checks(workspace, paths)
    after = run_check(runner, workspace, command) if command and runner else None
    checks = list(syntax)
    if before is not None:
        checks.append(before.as_check(f"before: {command}"))
    if after is not None:
        failed_before = before is not None and not before.passed
        checks.append(after.as_check(f"after: {command}", pre_existing=failed_before and not after.passed))
    result = Validation(verdict=verdict(before, after, syntax), checks=checks)
    return Outcome(result, _feedback(syntax, command, before, after))


def _feedback(
    syntax: list[ValidationCheck], command: str | None, before: CheckRun | None, after: CheckRun | None
) -> str | None:
    parts: list[str] = []
    broken = [c for c in syntax if _introduced(c)]
    if broken:
        listed = "\n".join(f"- {c.name.removeprefix('syntax ')}: {c.output}" for c in broken)
        parts.append(f"These files no longer parse after your change:\n{listed}")
    if after is not None and not after.passed:
        note = (
            "It failed before your change too; fix it if that is part of the task, otherwise say it is unrelated."
            if before is not None and not before.passed
            else "It passed before your change."
        )
        parts.append(f"The check command `{command}` failed (exit code {after.exit_code}). {note}\n{after.output}")
    if not parts:
        return None
    return "\n\n".join([*parts, "Please fix this, then end your turn with a short summary."])

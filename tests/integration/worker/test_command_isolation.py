"""How a run's commands ran, recorded on the run by a real worker process: isolated, without filesystem
isolation, without any, refused, or not recorded when commands are off.

Isolation is probed once per process, so each case of a refusing tool runs `cody-batch worker run` in a
fresh process, with a `bwrap` and/or `unshare` first on its PATH that refuse the way they do where the
kernel forbids unprivileged namespaces; the others run in this process, on this machine as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core.enums import JobKind
from core.errors import RunErrorKind
from core.models import CommandIsolation, RepositoryRun, RunStatus
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, bash, text_turn, tool_turn
from tests.integration.worker.conftest import greeting_edit, run_all, submit
from tests.unit.agent.test_command_tool import (
    KERNEL_BWRAP,
    KERNEL_NETWORK_NAMESPACE,
    refusing_path,
    require_isolation,
)

CLI = str(Path(sys.executable).parent / "cody-batch")
MakeRepo = Callable[..., Path]


def worked_run(
    settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    repo: Path,
    env: dict[str, str],
    **variables: str,
) -> RepositoryRun:
    """One run worked by `cody-batch worker run` in a fresh process with `env`: Claude runs one command,
    edits, and ends; the run as stored."""
    job = submit(settings.model_copy(update={"allow_commands": True}), store, [repo])
    fake_model.script([tool_turn(bash("echo ran")), *greeting_edit()])
    worker_env = {
        **{k: v for k, v in env.items() if not k.startswith(("CODY_BATCH_", "ANTHROPIC_", "AWS_BATCH_"))},
        "CODY_BATCH_DATA_DIR": str(settings.data_dir),
        "CODY_BATCH_ALLOWED_REPOS": ",".join(settings.allowed_repos),
        "ANTHROPIC_API_KEY": fake_model.api_key,
        "ANTHROPIC_BASE_URL": fake_model.url,
        **variables,
    }
    done = subprocess.run([CLI, "worker", "run", job.id, "--repo", "0"], env=worker_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (run,) = store.get_runs([job.id])[job.id]
    return run


def test_a_run_records_that_its_commands_ran_isolated(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: MakeRepo
) -> None:
    # GIVEN a worker where bubblewrap isolates commands (`make test` requires it): this process
    if not require_isolation(KERNEL_BWRAP):
        pytest.skip("bubblewrap cannot isolate commands here")
    commands_on = model_settings.model_copy(update={"allow_commands": True})
    job = submit(commands_on, store, [make_repo()])
    fake_model.script([tool_turn(bash("echo ran")), *greeting_edit()])
    # WHEN it works a run whose Claude runs a command
    [run] = run_all(commands_on, store, job)
    # THEN the run succeeded and records both isolations, with no reason
    assert run.status is RunStatus.SUCCEEDED
    assert run.command_isolation == CommandIsolation(filesystem=True, network=True, reason=None)


def test_without_bubblewrap_the_run_records_no_filesystem_isolation_and_why_with_home_as_tilde(
    settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: MakeRepo, tmp_path: Path
) -> None:
    # GIVEN a worker where unshare works but bubblewrap refuses: one installed under the worker's home that
    # names itself in full
    home = tmp_path / "worker-home"
    tool = home / ".local" / "bin" / "bwrap"
    tool.parent.mkdir(parents=True)
    tool.write_text('#!/bin/sh\necho "$0: setting up uid map: Permission denied" >&2\nexit 1\n')
    tool.chmod(0o755)
    env = {**os.environ, "HOME": str(home), "PATH": f"{tool.parent}{os.pathsep}{os.environ['PATH']}"}
    # WHEN it works a run whose Claude runs a command
    run = worked_run(settings, store, fake_model, make_repo(), env, CODY_BATCH_ALLOW_COMMANDS="1")
    # THEN the command ran, and the run says it ran without filesystem isolation, in bubblewrap's words
    # but with the worker's home as ~
    assert run.status is RunStatus.SUCCEEDED
    isolation = run.command_isolation
    assert isolation is not None and isolation.filesystem is False
    assert isolation.reason == "bubblewrap: ~/.local/bin/bwrap: setting up uid map: Permission denied"
    assert isolation.network is require_isolation(KERNEL_NETWORK_NAMESPACE)


def test_where_namespaces_are_refused_the_run_records_no_isolation_and_both_reasons(
    settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: MakeRepo, tmp_path: Path
) -> None:
    # GIVEN a worker where both bubblewrap and unshare refuse
    env = refusing_path(tmp_path, "bwrap", "unshare")
    # WHEN it works a run whose Claude runs a command
    run = worked_run(settings, store, fake_model, make_repo(), env, CODY_BATCH_ALLOW_COMMANDS="1")
    # THEN the run says its commands had neither isolation, and why each tool refused
    assert run.status is RunStatus.SUCCEEDED
    assert run.command_isolation == CommandIsolation(
        filesystem=False,
        network=False,
        reason="bubblewrap: bwrap: creating new namespace failed: Operation not permitted; "
        "unshare: unshare: creating new namespace failed: Operation not permitted",
    )


def test_commands_refused_unisolated_leave_nothing_recorded(
    settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: MakeRepo, tmp_path: Path
) -> None:
    # GIVEN a worker that requires isolation, where bubblewrap refuses
    env = refusing_path(tmp_path, "bwrap")
    # WHEN it works a run whose Claude runs a command
    run = worked_run(
        settings,
        store,
        fake_model,
        make_repo(),
        env,
        CODY_BATCH_ALLOW_COMMANDS="1",
        CODY_BATCH_REQUIRE_COMMAND_ISOLATION="1",
    )
    # THEN the run failed as misconfigured before any command ran, and records no isolation
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind is RunErrorKind.CONFIGURATION
    assert run.command_isolation is None


def test_a_run_without_commands_records_no_isolation(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: MakeRepo
) -> None:
    # GIVEN a worker where commands are off
    job = submit(model_settings, store, [make_repo()])
    fake_model.script([tool_turn(bash("echo ran")), *greeting_edit()])
    # WHEN it works a run (Claude's command is refused as a tool error, then it edits)
    [run] = run_all(model_settings, store, job)
    # THEN the run succeeded with no isolation recorded: nothing could run
    assert run.status is RunStatus.SUCCEEDED
    assert run.command_isolation is None


@pytest.mark.parametrize(("check_command", "recorded"), [(None, False), ("grep -q hi app.py", True)])
def test_an_analyze_job_records_isolation_only_when_its_check_command_runs(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: MakeRepo,
    check_command: str | None,
    recorded: bool,
) -> None:
    # GIVEN commands on, and an ANALYZE job (Claude only reads: no command tool), with or without a check command
    commands_on = model_settings.model_copy(update={"allow_commands": True})
    job = submit(commands_on, store, [make_repo()], kind=JobKind.ANALYZE, check_command=check_command)
    fake_model.script([text_turn("It prints hi.")])
    # WHEN the run is worked
    [run] = run_all(commands_on, store, job)
    # THEN it records how commands ran only when its check command could run
    assert run.status is RunStatus.SUCCEEDED
    assert (run.command_isolation is not None) is recorded
    if run.command_isolation is not None:
        assert run.command_isolation.filesystem is require_isolation(KERNEL_BWRAP)

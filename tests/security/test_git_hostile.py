"""Hostile git configuration planted by commands (and by an earlier run) never makes the worker run code.

Each case plants, from a command, something that makes git start a program: the worker's
own git calls afterwards (snapshot and restore around the check command, staging, the patch)
must run none of them, and no git process the worker starts may hold the Anthropic key or
the GitHub token (a local job makes no network call).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.models import Job, RepositoryRun, RunStatus
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, bash, tool_turn
from tests.integration.worker.conftest import WorkerScene, greeting_edit, run_all, submit
from tests.security.worker_fixtures import ANTHROPIC_KEY, GITHUB_TOKEN, GitSpy, git_spy, worker_secrets
from tests.unit.agent.test_command_tool import KERNEL_BWRAP, kernel_allows

__all__ = ["git_spy", "worker_secrets"]  # fixtures

GIT_DIR = 'GD=$(sed "s/^gitdir: //" .git)'

# name -> shell that plants it, run in the work tree; {evil} is a program leaving a marker.
PLANTS = {
    "fsmonitor": "git config core.fsmonitor '{evil} fsmonitor'",
    "hooks": (
        f"{GIT_DIR}; mkdir -p $GD/evil-hooks && for h in post-index-change reference-transaction post-checkout; "
        "do printf '#!/bin/sh\\n{evil} hook\\n' > $GD/evil-hooks/$h; chmod +x $GD/evil-hooks/$h; done; "
        "git config core.hooksPath $GD/evil-hooks"
    ),
    "filter driver": (
        "echo '* filter=evil' > .gitattributes; git config filter.evil.clean '{evil} clean'; "
        "git config filter.evil.smudge '{evil} smudge'"
    ),
    "diff drivers": (
        "echo '* diff=evil' > .gitattributes; git config diff.evil.textconv '{evil} textconv'; "
        "git config diff.evil.command '{evil} diff'; git config diff.external '{evil} external'"
    ),
    "include.path": (
        "printf '[core]\\n\\tfsmonitor = {evil} include\\n' > ../included; git config include.path \"$PWD/../included\""
    ),
    "gitfile redirect": (
        "git init -q ../evil && git -C ../evil config core.fsmonitor '{evil} gitfile' && "
        'printf "gitdir: %s\\n" "$(cd ../evil && pwd)/.git" > .git'
    ),
    "commondir": (
        f"{GIT_DIR}; mkdir -p ../common && printf '[core]\\n\\tfsmonitor = {{evil}} commondir\\n' > ../common/config"
        " && (cd ../common && pwd) > $GD/commondir"
    ),
    "worktree config": (
        f"{GIT_DIR}; git config extensions.worktreeConfig true; "
        "printf '[core]\\n\\tfsmonitor = {evil} worktree\\n' > $GD/config.worktree"
    ),
    "core.worktree": "git config core.worktree {victim}",
}


@dataclass
class Scene(WorkerScene):
    """A worker with the keys in its environment, commands on, a spy on git, a program that leaves markers."""

    spy: GitSpy
    evil: Path  # leaves a marker with its environment wherever it is run
    victim: Path  # a directory outside the workspace, for a planted core.worktree

    def plant(self, name: str) -> str:
        return PLANTS[name].format(evil=self.evil, victim=self.victim)

    def work(self, job: Job) -> RepositoryRun:
        """Work the job's one run through the real pipeline, watching only the worker's git calls."""
        self.spy.forget()
        [run] = run_all(self.settings, self.store, job)
        return run

    def assert_no_code_ran_and_no_secret_reached_git(self) -> None:
        markers = sorted(p.name for p in (self.evil.parent / "markers").iterdir())
        assert markers == [], f"planted programs ran: {markers}"
        assert (self.victim / "precious.txt").read_text() == "keep me\n"
        calls = self.spy.calls()
        assert any(call.argv.startswith("-c core.fsmonitor=false") for call in calls)  # the worker's calls seen
        for call in calls:
            text = call.argv + "\n" + "\n".join(f"{k}={v}" for k, v in call.env.items())
            assert ANTHROPIC_KEY not in text and GITHUB_TOKEN not in text, call.argv


@pytest.fixture
def scene(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    git_spy: GitSpy,
    worker_secrets: None,
    tmp_path: Path,
) -> Scene:
    (tmp_path / "markers").mkdir()
    evil = tmp_path / "evil.sh"
    evil.write_text(f'#!/bin/sh\nenv > "{tmp_path}/markers/$1-$$"\ncat\n')
    evil.chmod(0o755)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me\n")
    fake_model.api_key = ANTHROPIC_KEY  # the real key of a server started with one
    settings = model_settings.model_copy(
        update={
            "allow_commands": True,
            "fix_rounds": 0,
            "anthropic_api_key": SecretStr(ANTHROPIC_KEY),
            "github_token": SecretStr(GITHUB_TOKEN),
        }
    )
    return Scene(settings, store, fake_model, make_repo, git_spy, evil, victim)


@pytest.mark.parametrize("plant", list(PLANTS))
def test_a_check_command_cannot_make_the_worker_run_code(plant: str, scene: Scene) -> None:
    # GIVEN a check command that plants hostile git configuration before and after Claude's edit
    job = submit(scene.settings, scene.store, [scene.make_repo("planted")], check_command=scene.plant(plant) + "; true")
    scene.model.script(greeting_edit())
    # WHEN the run is worked through the real pipeline
    run = scene.work(job)
    # THEN it succeeded with Claude's change, no planted program ran, and git never held a secret
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.patch is not None and "app.py" in [f.path for f in run.patch.files]
    scene.assert_no_code_ran_and_no_secret_reached_git()


@pytest.mark.parametrize("plant", list(PLANTS))
def test_the_agents_command_tool_cannot_make_the_worker_run_code(plant: str, scene: Scene) -> None:
    # GIVEN a prompt-injected Claude that plants hostile git configuration with its command tool, then edits
    job = submit(scene.settings, scene.store, [scene.make_repo("planted")])
    scene.model.script([tool_turn(bash(scene.plant(plant))), *greeting_edit()])
    # WHEN the run is worked through the real pipeline
    run = scene.work(job)
    # THEN it succeeded with Claude's change, no planted program ran, and git never held a secret
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.patch is not None and "app.py" in [f.path for f in run.patch.files]
    scene.assert_no_code_ran_and_no_secret_reached_git()


def test_a_tampered_global_config_is_not_honoured(scene: Scene) -> None:
    # GIVEN a repository naming a filter driver, and the operator's global git config, rewritten by an
    # earlier command to define that driver and an fsmonitor
    repo = scene.make_repo("attributes", {"app.py": "print('hi')\n", ".gitattributes": "* filter=evil\n"})
    job = submit(scene.settings, scene.store, [repo])
    evil = scene.evil
    Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text(
        f'[core]\n\tfsmonitor = {evil} global\n[filter "evil"]\n\tclean = {evil} clean\n\tsmudge = {evil} smudge\n'
    )
    scene.model.script(greeting_edit())
    # WHEN a run is worked
    run = scene.work(job)
    # THEN nothing it names ran in the worker
    assert run.status is RunStatus.SUCCEEDED, run.error
    scene.assert_no_code_ran_and_no_secret_reached_git()


def test_a_replaced_git_directory_fails_the_run_clearly(scene: Scene) -> None:
    # GIVEN a command that swaps the workspace's git directory for one of its own
    swap = f"{GIT_DIR}; mv $GD $GD.moved && git init -q --bare $GD && git -C $GD config core.fsmonitor '{scene.evil} x'"
    job = submit(scene.settings, scene.store, [scene.make_repo("swapped")])
    scene.model.script([tool_turn(bash(swap)), *greeting_edit()])
    # WHEN the run is worked
    run = scene.work(job)
    # THEN where bubblewrap isolates commands, the git dir is a mount point in the command's view that
    # cannot be moved, and the run goes on with its own; elsewhere the run fails with its own kind
    # before any git call uses the swapped directory
    if kernel_allows(KERNEL_BWRAP):
        assert run.status is RunStatus.SUCCEEDED, run.error
    else:
        assert run.status is RunStatus.FAILED and run.error is not None
        assert run.error.kind == "WORKSPACE_TAMPERED"
    scene.assert_no_code_ran_and_no_secret_reached_git()

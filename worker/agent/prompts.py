"""System prompts built from the template files in `worker/prompts/` (package data)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from core.models import JobKind, Strategy


@cache
def template(name: str) -> str:
    """The text of one template file, e.g. ``bugfix``."""
    return resources.files("worker.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")


def load_templates() -> None:
    """Read every template now: the worker forkserver calls this, so runs forked later read none."""
    for entry in resources.files("worker.prompts").iterdir():
        if entry.name.endswith(".md"):
            template(entry.name.removesuffix(".md"))


def build_system_prompt(strategy: Strategy, kind: JobKind, repo_name: str, allow_commands: bool) -> str:
    """The system prompt for one repository: the frame, the tools on offer, the strategy's guidance."""
    read_only = kind is JobKind.ANALYZE
    guidance = template("analyze") if read_only else template(strategy.value.lower())
    # Analyses never get a shell (a command could change what they report on).
    commands = template("commands_on" if allow_commands and not read_only else "commands_off")
    return (
        Template(template("base"))
        .safe_substitute(repo_name=repo_name, command_tool=commands, guidance=guidance.strip())
        .strip()
    )

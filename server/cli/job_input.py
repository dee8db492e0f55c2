"""What `cody-batch submit` sends: the createJob input, with local paths resolved."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.enums import JobKind, OutputMode, Strategy


def resolve_repository(ref: str, cwd: Path | None = None) -> str:
    """A local path (./x, ../x, ~/x, absolute, or an existing directory) as an absolute real path.

    `owner/name` and URLs are left for the server to normalize.
    """
    if "://" in ref or ref.startswith("git@"):
        return ref
    path = (cwd or Path.cwd()) / os.path.expanduser(ref)
    # `a/b/c` cannot be a GitHub repository (that is `owner/name` or `github.com/owner/name`),
    # so it is a path even when it does not exist: the server then says what is wrong with it.
    nested = ref.count("/") >= 2 and not ref.lower().startswith("github.com/")
    if ref.startswith(("/", "./", "../", "~")) or ref in (".", "..") or nested or path.is_dir():
        return os.path.realpath(path)
    return ref


def build_job_input(
    prompt: str,
    repositories: list[str],
    title: str | None,
    kind: JobKind | None,
    output: OutputMode | None,
    strategy: Strategy | None,
    model: str | None,
    check_command: str | None,
    max_turns: int | None,
    max_cost_usd: float | None,
) -> dict[str, Any]:
    """The `CreateJobInput` of a submit: unset options left out, local paths resolved."""
    fields: dict[str, Any] = {
        "title": title,
        "kind": kind.value if kind else None,
        "output": output.value if output else None,
        "strategy": strategy.value if strategy else None,
        "model": model,
        "checkCommand": check_command,
    }
    budget = {k: v for k, v in {"maxTurns": max_turns, "maxCostUsd": max_cost_usd}.items() if v is not None}
    if budget:
        fields["budget"] = budget
    resolved = [resolve_repository(ref) for ref in repositories]
    return {"prompt": prompt, "repositories": resolved, **{k: v for k, v in fields.items() if v is not None}}

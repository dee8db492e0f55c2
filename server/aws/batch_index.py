"""Which run an AWS Batch child runs: its array index mapped through the dispatched lists."""

from __future__ import annotations

from collections.abc import Mapping

ARRAY_INDEX_ENV = "AWS_BATCH_JOB_ARRAY_INDEX"
RUN_INDEXES_ENV = "CODY_BATCH_RUN_INDEXES"
RUN_ATTEMPTS_ENV = "CODY_BATCH_RUN_ATTEMPTS"


class NoRunIndex(ValueError):
    """The environment names no run (or names it badly)."""


def _listed(env: Mapping[str, str], name: str, position: int) -> int | None:
    listed = env.get(name, "").strip()
    if not listed:
        return None
    parts = [part.strip() for part in listed.split(",")]
    if not all(part.isdigit() for part in parts):
        raise NoRunIndex(f"{name} must be comma-separated numbers, not {listed!r}")
    if position >= len(parts):
        raise NoRunIndex(f"{ARRAY_INDEX_ENV}={position} is past the {len(parts)} runs in {name}")
    return int(parts[position])


def batch_child_run(env: Mapping[str, str]) -> tuple[int, int | None]:
    """(run index, attempt or None) of this Batch child: entry `AWS_BATCH_JOB_ARRAY_INDEX` of
    `CODY_BATCH_RUN_INDEXES` and `CODY_BATCH_RUN_ATTEMPTS`. Without the index list the array
    index is the run index itself (a job of runs 0..n-1)."""
    raw = env.get(ARRAY_INDEX_ENV)
    if raw is None or not raw.strip().isdigit():
        raise NoRunIndex(f"give --repo N (or set {ARRAY_INDEX_ENV})")
    position = int(raw)
    index = _listed(env, RUN_INDEXES_ENV, position)
    return (position if index is None else index), _listed(env, RUN_ATTEMPTS_ENV, position)

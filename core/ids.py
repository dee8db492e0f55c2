"""Identifiers and timestamps."""

from __future__ import annotations

import datetime as dt


def new_id() -> str:
    """A sortable unique id (ULID)."""
    from ulid import ULID  # loaded by the first write, not by every process that reads times or ids

    return str(ULID())


def utcnow() -> dt.datetime:
    """Now, UTC, truncated to milliseconds so stored and shown times agree."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

"""Opaque page cursors over job ids, shared by every store (the same cursor works on each)."""

from __future__ import annotations

import base64


def page_cursor(job_id: str) -> str:
    """The cursor of a job in a newest-first page."""
    return base64.urlsafe_b64encode(f"job:{job_id}".encode()).decode().rstrip("=")


def page_after(cursor: str) -> str:
    """The job id inside a cursor; ValueError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"not a valid page cursor: {cursor!r}") from None
    if not raw.startswith("job:") or len(raw) == len("job:"):
        raise ValueError(f"not a valid page cursor: {cursor!r}")
    return raw[4:]

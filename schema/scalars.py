"""Custom scalars: DateTime as ISO-8601 UTC with milliseconds and `Z`."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types.scalar import ScalarDefinition

from core.ids import iso


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


DATETIME = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 UTC timestamp with milliseconds, e.g. 2025-01-31T12:00:00.000Z",
    serialize=iso,
    parse_value=_parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {dt.datetime: DATETIME}

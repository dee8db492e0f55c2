"""A moto Batch client whose SubmitJob is refused (tests/fakes/stubbed_batch.py): throttled unless told otherwise."""

from __future__ import annotations

from typing import Any

from tests.fakes.stubbed_batch import THROTTLED, UNAVAILABLE, refuse_submissions
from tests.integration.aws.conftest import aws_client

__all__ = ["UNAVAILABLE", "refusing_batch"]


def refusing_batch(error: tuple[str, int] = THROTTLED, *, look_up: bool = False, times: int = 1) -> Any:
    """A Batch client whose SubmitJob is refused with `error` `times` times (after a ListJobs, with `look_up`)."""
    client = aws_client("batch")
    refuse_submissions(client, error, look_up=look_up, times=times)
    return client

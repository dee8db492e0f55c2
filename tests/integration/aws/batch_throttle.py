"""A Batch client whose answers are scripted with botocore's Stubber: throttled or failing submissions."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from tests.integration.aws.conftest import aws_client

THROTTLED = ("TooManyRequestsException", 429)
UNAVAILABLE = ("ServerException", 500)


def refusing_batch(error: tuple[str, int] = THROTTLED, *, look_up: bool = False, times: int = 1) -> Any:
    """A Batch client whose SubmitJob is refused with `error` (code, HTTP status) `times` times; with `look_up`,
    each refusal follows a ListJobs that finds nothing (a submission looked for before it is made)."""
    client = aws_client("batch")
    stub = Stubber(client)
    code, status = error
    for _ in range(times):
        if look_up:
            stub.add_response("list_jobs", {"jobSummaryList": []})
        stub.add_client_error(
            "submit_job", service_error_code=code, service_message="Rate exceeded", http_status_code=status
        )
    stub.activate()
    return client

"""Batch refusing submissions, through botocore's Stubber on a real client: throttled, a 5xx, or anything else."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

THROTTLED = ("TooManyRequestsException", 429)
UNAVAILABLE = ("ServerException", 500)


def refuse_submissions(
    client: Any, error: tuple[str, int] = THROTTLED, *, look_up: bool = False, times: int = 1
) -> Stubber:
    """Make `client`'s SubmitJob refused with `error` (code, HTTP status) `times` times; with `look_up`, each refusal
    follows a ListJobs that finds nothing (a submission looked for before it is made). The Stubber, active:
    `deactivate()` it to let calls reach Batch again."""
    stub = Stubber(client)
    code, status = error
    for _ in range(times):
        if look_up:
            stub.add_response("list_jobs", {"jobSummaryList": []})
        stub.add_client_error(
            "submit_job", service_error_code=code, service_message="Rate exceeded", http_status_code=status
        )
    stub.activate()
    return stub

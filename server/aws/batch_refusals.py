"""Whether AWS Batch refused a submission for a while (throttled, its own fault, the connection) or for good.

botocore's standard retry mode already sorts errors this way; its checkers are reused here, so a
refusal botocore would have retried is one the sweep tries again, and anything else (a queue or job
definition that does not exist, a validation error: Batch's `ClientException`) fails the runs at once.
"""

from __future__ import annotations

from botocore.awsrequest import AWSResponse
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker, TransientRetryableChecker

SUBMIT_ERRORS = (ClientError, BotoCoreError, ValueError)
"""What a submission can raise: Batch's answer, the connection, or settings that name no queue."""

_THROTTLED = ThrottledRetryableChecker()
_TRANSIENT = TransientRetryableChecker()


def _context(err: Exception) -> RetryContext:
    if isinstance(err, ClientError):
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
        http = AWSResponse(url="", status_code=status, headers={}, raw=None)
        return RetryContext(attempt_number=1, parsed_response=dict(err.response), http_response=http)
    return RetryContext(attempt_number=1, caught_exception=err)


def throttled(err: Exception) -> bool:
    """Whether Batch (or the account's API rate) throttled the call."""
    return _THROTTLED.is_retryable(_context(err))


def passing(err: Exception) -> bool:
    """Whether the refusal may pass by itself: throttled, a 5xx (`ServerException`), a connection error."""
    context = _context(err)
    return _THROTTLED.is_retryable(context) or _TRANSIENT.is_retryable(context)


def waiting_step(err: Exception, minutes: int) -> str:
    """What a run waiting for Batch to accept it says (its `step`), with why Batch refused."""
    why = "throttled" if throttled(err) else "AWS Batch unavailable"
    return f"waiting for AWS Batch to accept the run ({why}); retrying every {minutes} minutes"

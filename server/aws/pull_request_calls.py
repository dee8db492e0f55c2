"""The PullRequestHost across a Lambda invoke: the HTTP function asks, the GitHub function answers.

The HTTP function may not load PyGithub (its cold start, and its bundle leaves it out), so on AWS
its `PullRequestHost` is `InvokedPullRequestHost`: each call is one synchronous invoke of the
GitHub function, whose handler runs it on the GitHub adapter with `answer_call`. The core services
(refresh, webhook deliveries, bulk actions) run in the HTTP function exactly as they run locally;
only the GitHub requests happen one hop away.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from core.errors import CodyBatchError, RunErrorKind, RunFailure
from core.models import PullRequestStatus
from core.ports import PullRequestHost

Method = Literal["pull_request_status", "publish", "comment", "close", "merge", "delete_branch"]


class PullRequestCall(BaseModel):
    """One PullRequestHost call: the method and its arguments."""

    call: Method
    repository: str
    number: int = 0
    known: PullRequestStatus | None = None  # pull_request_status
    text: str = ""  # comment
    branch: str = ""  # delete_branch


class CallFailure(BaseModel):
    """A failure of the call, as the host raised it (a RunFailure's kind and message)."""

    kind: RunErrorKind
    message: str


class CallAnswer(BaseModel):
    """What the call returned (a status, for pull_request_status) or how it failed."""

    status: PullRequestStatus | None = None
    failure: CallFailure | None = None


def answer_call(host: PullRequestHost, call: PullRequestCall) -> CallAnswer:
    """Run `call` on `host` (the GitHub function's side); an expected failure is part of the answer."""
    try:
        if call.call == "pull_request_status":
            return CallAnswer(status=host.pull_request_status(call.repository, call.number, call.known))
        if call.call == "comment":
            host.comment(call.repository, call.number, call.text)
        elif call.call == "delete_branch":
            host.delete_branch(call.repository, call.branch)
        else:
            getattr(host, call.call)(call.repository, call.number)
    except RunFailure as err:
        return CallAnswer(failure=CallFailure(kind=err.kind, message=err.message))
    except CodyBatchError as err:
        return CallAnswer(failure=CallFailure(kind=RunErrorKind.GITHUB_ERROR, message=str(err)))
    return CallAnswer()


class InvokedPullRequestHost:
    """The PullRequestHost of the HTTP function: every call is a synchronous invoke of the GitHub function."""

    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self.client = lambda_client
        self.function_name = function_name

    def pull_request_status(self, repository: str, number: int, known: PullRequestStatus | None) -> PullRequestStatus:
        """The pull request now, read by the GitHub function with its conditional requests."""
        call = PullRequestCall(call="pull_request_status", repository=repository, number=number, known=known)
        answer = self._invoke(call)
        if answer.status is None:
            raise RunFailure(f"the GitHub function gave no state for {repository}#{number}", RunErrorKind.GITHUB_ERROR)
        return answer.status

    def publish(self, repository: str, number: int) -> None:
        """Mark a draft ready for review."""
        self._invoke(PullRequestCall(call="publish", repository=repository, number=number))

    def comment(self, repository: str, number: int, text: str) -> None:
        """Comment on the pull request."""
        self._invoke(PullRequestCall(call="comment", repository=repository, number=number, text=text))

    def close(self, repository: str, number: int) -> None:
        """Close the pull request."""
        self._invoke(PullRequestCall(call="close", repository=repository, number=number))

    def merge(self, repository: str, number: int) -> None:
        """Merge the pull request as the repository allows."""
        self._invoke(PullRequestCall(call="merge", repository=repository, number=number))

    def delete_branch(self, repository: str, branch: str) -> None:
        """Delete the pull request's branch."""
        self._invoke(PullRequestCall(call="delete_branch", repository=repository, branch=branch))

    def _invoke(self, call: PullRequestCall) -> CallAnswer:
        try:
            response = self.client.invoke(
                FunctionName=self.function_name, InvocationType="RequestResponse", Payload=call.model_dump_json()
            )
            body = response["Payload"].read()
        except Exception as err:  # botocore's errors: throttled, not found, no permission, no answer
            raise RunFailure(
                f"the GitHub function could not be invoked ({type(err).__name__})", RunErrorKind.GITHUB_UNAVAILABLE
            ) from err
        if response.get("FunctionError"):
            raise RunFailure(f"the GitHub function failed: {_error_message(body)}", RunErrorKind.GITHUB_UNAVAILABLE)
        try:
            answer = CallAnswer.model_validate_json(body)
        except ValidationError:
            raise RunFailure("the GitHub function's answer was not understood", RunErrorKind.GITHUB_ERROR) from None
        if answer.failure is not None:
            raise RunFailure(answer.failure.message, answer.failure.kind)
        return answer


def _error_message(body: bytes) -> str:
    """Lambda's report of an unhandled error: {"errorMessage": ..., "errorType": ...}."""
    try:
        data = json.loads(body)
    except ValueError:
        return "no details"
    return str(data.get("errorType") or "error") if isinstance(data, dict) else "no details"

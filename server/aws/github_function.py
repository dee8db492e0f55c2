"""The GitHub function: the PullRequestHost calls of the other functions, and the scheduled refresh.

It is the one function that loads PyGithub (its own bundle): the HTTP function invokes it for
each GitHub request of a refresh, a webhook delivery or a bulk action, and an EventBridge rule
invokes it for the periodic refresh of open pull requests, which runs the local poller's code.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from core.ports import PullRequestHost, Store
from core.services.pull_requests import refresh_open_pull_requests
from server.aws.handlers import Handler
from server.aws.pull_request_calls import PullRequestCall, answer_call

log = logging.getLogger(__name__)


class ScheduledEvent(BaseModel):
    """What an EventBridge schedule sends; only its source and kind matter here."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: Literal["aws.events"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")


GitHubFunctionEvent = TypeAdapter(ScheduledEvent | PullRequestCall)


def github_function(store: Store, host: PullRequestHost) -> Handler:
    """The handler: a scheduled event refreshes open pull requests; a call is answered with `answer_call`."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        parsed = GitHubFunctionEvent.validate_python(event)  # anything else fails the invoke
        if isinstance(parsed, ScheduledEvent):
            refreshed = refresh_open_pull_requests(store, host)
            log.info("scheduled refresh: the open pull requests of %d job(s) read", refreshed)
            return {"refreshedJobs": refreshed}
        return answer_call(host, parsed).model_dump(mode="json")

    return handle

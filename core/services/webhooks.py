"""GitHub webhook deliveries: which of our pull requests one concerns, once per delivery id.

A delivery only says *which* pull request changed; its state is then read the way a refresh
reads it (conditional requests), so webhooks and refreshes share one path and one meaning of
state, checks and review decision. The edge (server.web.webhooks) has verified the signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import CodyBatchError
from core.ports import PullRequestHost, Store
from core.services.pull_request_index import branch_key, number_key, runs_named
from core.services.pull_requests import refresh_pull_requests

EVENTS = frozenset({"pull_request", "pull_request_review", "check_run", "check_suite", "status"})
DELIVERY_TTL = 7 * 24 * 3600  # GitHub offers redelivery of the last 3 days' deliveries
# How long a delivery being applied holds its id: longer than any request may run (a Lambda's 15 min),
# so a server that died mid-delivery does not bar its redelivery for a week.
CLAIM_TTL = 15 * 60


class WebhookRefused(CodyBatchError):
    """A delivery that changes nothing: a status to answer with and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DeliveryOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this delivery id was handled before: nothing done again
    IGNORED = "ignored"  # an event this server does not follow (ping, push, ...)


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: dict[str, Any]


def _delivery_key(delivery_id: str) -> str:
    return f"webhook-delivery/{delivery_id}"


class _Part(BaseModel):
    # Validators are built on the first delivery: most cold starts of the HTTP function never see one.
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _Payload(_Part):
    """The few fields of a delivery that name a pull request; GitHub sends many more."""

    class Repository(_Part):
        full_name: str = Field(min_length=3)

    class Numbered(_Part):
        number: int

    class Branch(_Part):
        name: str

    class Suite(_Part):
        head_branch: str | None = None
        pull_requests: list[_Payload.Numbered] = Field(default_factory=list)
        check_suite: _Payload.Suite | None = None  # a check run's suite

    repository: Repository
    pull_request: Numbered | None = None
    check_run: Suite | None = None
    check_suite: Suite | None = None
    branches: list[Branch] = Field(default_factory=list)


def concerned_keys(event: str, payload: dict[str, Any]) -> tuple[str, list[str]]:
    """The repository a delivery is about and the index keys of the pull requests it names."""
    try:
        parsed = _Payload.model_validate(payload)
    except ValidationError:
        raise WebhookRefused(400, f"the {event} delivery is missing its repository or pull request fields") from None
    repository = parsed.repository.full_name.lower()
    numbers: list[int] = []
    branches: list[str] = []
    if event in {"pull_request", "pull_request_review"} and parsed.pull_request is not None:
        numbers.append(parsed.pull_request.number)
    suite = parsed.check_run if event == "check_run" else parsed.check_suite if event == "check_suite" else None
    if suite is not None:
        numbers += [p.number for p in suite.pull_requests]
        head_branch = suite.head_branch or (suite.check_suite.head_branch if suite.check_suite else None)
        branches += [head_branch] if head_branch else []
    if event == "status":
        branches += [b.name for b in parsed.branches]
    keys = [number_key(repository, n) for n in numbers] + [branch_key(repository, b) for b in branches]
    return repository, keys


def handle_delivery(store: Store, host: PullRequestHost, delivery: Delivery) -> DeliveryOutcome:
    """Refresh the pull requests a (verified) delivery names, once per delivery id.

    The id is claimed first with an atomic add (a conditional put on DynamoDB), so of two
    simultaneous deliveries of one id exactly one applies. A delivery about no pull request of this
    server is refused (WebhookRefused 404) and, like a duplicate, changes nothing; a refused or failed
    delivery gives its claim back, so one that failed half-way (a pull request GitHub could not be
    asked about: its CodyBatchError is raised once the others are stored) can be redelivered.
    """
    key = _delivery_key(delivery.id)
    if store.cache_get(key) is not None:  # a known id, whatever it is now presented as
        return DeliveryOutcome.DUPLICATE
    if delivery.event not in EVENTS:
        return DeliveryOutcome.IGNORED
    repository, keys = concerned_keys(delivery.event, delivery.payload)
    if not store.cache_add(key, "applying", CLAIM_TTL):  # the same id arrived a moment ago
        return DeliveryOutcome.DUPLICATE
    try:
        runs = runs_named(store, keys)
        if not runs:
            raise WebhookRefused(404, f"no pull request of this server in {repository} matches this delivery")
        unread: list[CodyBatchError] = []
        for job_id, run_ids in runs.items():
            try:
                refresh_pull_requests(store, host, job_id, run_ids, raise_unread=True)
            except CodyBatchError as err:
                unread.append(err)
        if unread:
            raise unread[0]
    except BaseException:
        store.cache_delete(key)
        raise
    store.cache_put(key, delivery.event, DELIVERY_TTL)
    return DeliveryOutcome.APPLIED

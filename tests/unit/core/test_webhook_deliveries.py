"""Webhook deliveries (verified by the edge): which pull requests one names, once per delivery id."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import CodyBatchError
from core.models import EventKind, PullRequestState
from core.services.pull_request_index import branch_key, number_key
from core.services.pull_requests import refresh_pull_requests
from core.services.webhooks import Delivery, DeliveryOutcome, WebhookRefused, concerned_keys, handle_delivery
from store.sqlite import SqliteStore
from tests.fakes.pull_request_host import MemoryPullRequestHost
from tests.unit.core.pull_request_runs import pull_request_job

REPO = {"full_name": "Acme/One"}


def _states(store: SqliteStore, job_id: str) -> list[PullRequestState]:
    return [r.pull_request.state for r in store.get_runs([job_id])[job_id] if r.pull_request is not None]


def _pull_request(number: int) -> dict[str, Any]:
    return {"action": "closed", "number": number, "pull_request": {"number": number}, "repository": REPO}


@pytest.mark.parametrize(
    ("event", "payload", "keys"),
    [
        ("pull_request", _pull_request(4), [number_key("acme/one", 4)]),
        ("pull_request_review", _pull_request(5), [number_key("acme/one", 5)]),
        (
            "check_run",
            {"check_run": {"pull_requests": [{"number": 1}, {"number": 2}], "check_suite": {"head_branch": "b"}}},
            [number_key("acme/one", 1), number_key("acme/one", 2), branch_key("acme/one", "b")],
        ),
        (
            "check_run",
            {"check_run": {"head_branch": "own", "check_suite": {"head_branch": "suite"}}},
            [branch_key("acme/one", "own")],
        ),
        ("check_suite", {"check_suite": {"head_branch": "b", "pull_requests": [{"number": 3}]}}, None),
        ("check_suite", {"check_suite": {"pull_requests": []}}, []),
        (
            "status",
            {"branches": [{"name": "b"}, {"name": "c"}]},
            [branch_key("acme/one", "b"), branch_key("acme/one", "c")],
        ),
        # Fields an event does not carry are not read, even when present.
        ("status", {"pull_request": {"number": 9}, "check_suite": {"head_branch": "x"}}, []),
        ("check_suite", {"pull_request": {"number": 9}, "check_run": {"head_branch": "x"}}, []),
        ("pull_request", {"check_run": {"head_branch": "x"}, "branches": [{"name": "y"}]}, []),
    ],
)
def test_each_event_names_its_pull_requests_by_number_or_head_branch(
    event: str, payload: dict[str, Any], keys: list[str] | None
) -> None:
    # WHEN a delivery's payload is read THEN it names the lower-cased repository and the keys of its event's fields
    repository, found = concerned_keys(event, {"repository": REPO, **payload})
    assert repository == "acme/one"
    assert found == (keys if keys is not None else [number_key("acme/one", 3), branch_key("acme/one", "b")])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"repository": {}},
        {"repository": {"full_name": "ab"}},
        {"repository": REPO, "pull_request": {"number": "x"}},
    ],
)
def test_a_delivery_without_its_repository_or_with_a_bad_pull_request_is_a_400(payload: dict[str, Any]) -> None:
    with pytest.raises(WebhookRefused) as refused:
        concerned_keys("pull_request", payload)
    assert refused.value.status == 400
    assert refused.value.message == "the pull_request delivery is missing its repository or pull request fields"
    assert str(refused.value) == refused.value.message


def test_a_delivery_refreshes_the_pull_requests_it_names_once_per_delivery_id(store: SqliteStore) -> None:
    # GIVEN two open pull requests, the first merged on the host
    host = MemoryPullRequestHost()
    job, runs = pull_request_job(store, host, ["acme/one", "acme/two"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    delivery = Delivery(id="d-1", event="pull_request", payload=_pull_request(1))
    # WHEN its delivery arrives THEN it is applied: the first is read and merged, with an event; the second is not read
    assert handle_delivery(store, host, delivery) is DeliveryOutcome.APPLIED
    assert [r.repository for r in host.reads] == ["acme/one"]
    assert _states(store, job.id) == [PullRequestState.MERGED, PullRequestState.OPEN]
    events = store.list_events(job.id)
    assert [e.run_id for e in events if e.kind is EventKind.PULL_REQUEST] == [runs[0].id]
    # WHEN the same delivery id comes again, even as another event THEN it is a duplicate: nothing read or written
    host.reads.clear()
    again = Delivery(id="d-1", event="push", payload={})
    assert handle_delivery(store, host, again) is DeliveryOutcome.DUPLICATE
    assert handle_delivery(store, host, delivery) is DeliveryOutcome.DUPLICATE
    assert host.reads == [] and store.list_events(job.id) == events
    # WHEN another delivery (a new id) names the second THEN it is applied
    review = {"action": "submitted", "pull_request": {"number": 2}, "repository": {"full_name": "acme/two"}}
    other = Delivery(id="d-9", event="pull_request_review", payload=review)
    assert handle_delivery(store, host, other) is DeliveryOutcome.APPLIED
    assert [r.repository for r in host.reads] == ["acme/two"]


def test_an_event_this_server_does_not_follow_is_ignored_and_not_remembered(store: SqliteStore) -> None:
    # GIVEN an open pull request, merged on the host
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    # WHEN a push delivery arrives THEN it is ignored: nothing read
    assert handle_delivery(store, host, Delivery("d-2", "push", _pull_request(1))) is DeliveryOutcome.IGNORED
    assert host.reads == [] and _states(store, job.id) == [PullRequestState.OPEN]
    # AND its id was not remembered as handled
    assert handle_delivery(store, host, Delivery("d-2", "pull_request", _pull_request(1))) is DeliveryOutcome.APPLIED


def test_a_delivery_about_no_pull_request_of_this_server_is_a_404_and_can_come_again(store: SqliteStore) -> None:
    # GIVEN a pull request opened before deliveries were followed (not yet known to them)
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"], indexed=False)
    host.set("acme/one", 1, PullRequestState.CLOSED)
    delivery = Delivery(id="d-3", event="pull_request", payload=_pull_request(1))
    # WHEN its delivery arrives THEN it is refused as naming nothing of this server, and nothing is read
    with pytest.raises(WebhookRefused) as refused:
        handle_delivery(store, host, delivery)
    assert refused.value.status == 404
    assert refused.value.message == "no pull request of this server in acme/one matches this delivery"
    assert host.reads == [] and _states(store, job.id) == [PullRequestState.OPEN]
    # WHEN a refresh has made it known and GitHub redelivers the same id THEN it is applied
    refresh_pull_requests(store, host, job.id)
    host.set("acme/one", 1, PullRequestState.OPEN)
    assert handle_delivery(store, host, delivery) is DeliveryOutcome.APPLIED
    assert _states(store, job.id) == [PullRequestState.OPEN]


def test_a_delivery_whose_pull_request_cannot_be_read_fails_and_a_redelivery_applies_it(store: SqliteStore) -> None:
    # GIVEN a pull request merged on the host, which cannot be read now
    host = MemoryPullRequestHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    host.failing[("acme/one", 1)] = "GitHub is unavailable (503)"
    delivery = Delivery(id="d-4", event="pull_request", payload=_pull_request(1))
    # WHEN its delivery arrives THEN it fails with the host's reason (the edge answers 502) and stores nothing
    with pytest.raises(CodyBatchError, match="GitHub is unavailable"):
        handle_delivery(store, host, delivery)
    assert _states(store, job.id) == [PullRequestState.OPEN]
    # WHEN GitHub redelivers it once the host answers again THEN it is applied, not a duplicate
    del host.failing[("acme/one", 1)]
    assert handle_delivery(store, host, delivery) is DeliveryOutcome.APPLIED
    assert _states(store, job.id) == [PullRequestState.MERGED]


def test_a_second_delivery_of_an_id_while_the_first_is_applied_is_a_duplicate(store: SqliteStore) -> None:
    # GIVEN a host on which the same delivery arrives again while the first one is reading GitHub
    outcomes: list[DeliveryOutcome] = []
    delivery = Delivery(id="d-9", event="pull_request", payload=_pull_request(1))

    class RedeliveringHost(MemoryPullRequestHost):
        def pull_request_status(self, repository: str, number: int, known: Any) -> Any:
            if not outcomes:
                outcomes.append(handle_delivery(store, self, delivery))  # the simultaneous twin
            return super().pull_request_status(repository, number, known)

    host = RedeliveringHost()
    job, _ = pull_request_job(store, host, ["acme/one"])
    host.set("acme/one", 1, PullRequestState.MERGED)
    # WHEN the first is applied
    first = handle_delivery(store, host, delivery)
    # THEN it applied once, and its twin was a duplicate that read nothing
    assert (first, outcomes) == (DeliveryOutcome.APPLIED, [DeliveryOutcome.DUPLICATE])
    assert len(host.reads) == 1
    assert _states(store, job.id) == [PullRequestState.MERGED]

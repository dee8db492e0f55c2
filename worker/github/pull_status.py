"""A pull request's state, checks and reviews, read from GitHub with conditional requests.

Four reads per pull request: the pull request, its reviews, the check runs and the combined
commit status of its head. Each answer's ETag is kept (with the few fields used) on the stored
status; the next read sends it as If-None-Match, and GitHub answers 304 without counting it
against the rate limit when nothing changed. PyGithub has no conditional read of a stored ETag,
so these go through its Requester (same auth, retries and base URL as every other call).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from github import Github, GithubException

from core.models import ChecksState, PullRequestState, PullRequestStatus, ReviewDecision
from core.ports import Pacer
from worker.github.client import github_client, github_pace
from worker.github.config import GitHubAccess
from worker.github.errors import github_errors
from worker.github.pacing import GitHubPace
from worker.github.pull_actions import GitHubPullRequestWrites

PAGE = 100  # the first page of reviews and check runs: a job's pull request rarely has more
_FAILED = {"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"}
_DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}

Reduce = Callable[[Any], dict[str, Any]]


def _pull(data: Any) -> dict[str, Any]:
    requested = len(data.get("requested_reviewers") or []) + len(data.get("requested_teams") or [])
    return {
        "state": data["state"],
        "merged": bool(data.get("merged")),
        "draft": bool(data.get("draft")),
        "mergeable": data.get("mergeable"),
        "updated_at": data.get("updated_at"),
        "head": data["head"]["sha"],
        "reviewers_requested": requested > 0,
    }


def _reviews(data: Any) -> dict[str, Any]:
    latest: dict[str, str] = {}
    for review in data:  # oldest first: a reviewer's last decisive review counts
        if review.get("state") in _DECISIVE:
            latest[(review.get("user") or {}).get("login", "")] = review["state"]
    return {"latest": sorted(latest.values())}


def _check_runs(data: Any) -> dict[str, Any]:
    runs = data.get("check_runs") or []
    return {"checks": [_check_run_state(run) for run in runs]}


def _check_run_state(run: dict[str, Any]) -> str:
    if run.get("status") != "completed":
        return ChecksState.PENDING
    return ChecksState.FAILURE if run.get("conclusion") in _FAILED else ChecksState.SUCCESS


def _combined_status(data: Any) -> dict[str, Any]:
    if not data.get("total_count"):
        return {"checks": []}
    state = data.get("state")
    mapped = {"success": ChecksState.SUCCESS, "pending": ChecksState.PENDING}.get(state, ChecksState.FAILURE)
    return {"checks": [mapped]}


def combine_checks(states: list[str]) -> ChecksState:
    """Failing if any fails, else pending if any pends, else success if any ran; NONE when nothing ran."""
    for state in (ChecksState.FAILURE, ChecksState.PENDING, ChecksState.SUCCESS):
        if state in states:
            return state
    return ChecksState.NONE


def pull_state(pull: dict[str, Any]) -> PullRequestState:
    """OPEN, DRAFT, MERGED or CLOSED from GitHub's state, merged and draft fields."""
    if pull["merged"]:
        return PullRequestState.MERGED
    if pull["state"] == "closed":
        return PullRequestState.CLOSED
    return PullRequestState.DRAFT if pull["draft"] else PullRequestState.OPEN


def review_decision(latest: list[str], reviewers_requested: bool) -> ReviewDecision:
    """Like GitHub's reviewDecision, from reviews alone: any standing change request wins, then approvals.

    GitHub's own REVIEW_REQUIRED comes from branch protection, which only admins can read; here it
    means reviewers are requested and none has decided.
    """
    if "CHANGES_REQUESTED" in latest:
        return ReviewDecision.CHANGES_REQUESTED
    if "APPROVED" in latest:
        return ReviewDecision.APPROVED
    return ReviewDecision.REVIEW_REQUIRED if reviewers_requested else ReviewDecision.NONE


class GitHubPullRequests(GitHubPullRequestWrites):
    """The PullRequestHost over GitHub's API (through PyGithub), paced with every run using the token."""

    def __init__(self, client: Github, pace: GitHubPace | None = None, token: str | None = None) -> None:
        self.client = client
        self.pace = pace
        self.token = token  # only to keep it out of error messages

    def pull_request_status(self, repository: str, number: int, known: PullRequestStatus | None) -> PullRequestStatus:
        """The pull request now; what GitHub answers 304 for is taken from `known`."""
        before = known.reads if known is not None else {}
        reads: dict[str, dict[str, Any]] = {}
        with github_errors(f"read pull request #{number} of", repository, self.token):
            pull = self._read(f"/repos/{repository}/pulls/{number}", _pull, before, reads)
            reviews = self._read(f"/repos/{repository}/pulls/{number}/reviews", _reviews, before, reads)
            head = pull["head"]
            runs = self._read(f"/repos/{repository}/commits/{head}/check-runs", _check_runs, before, reads)
            status = self._read(f"/repos/{repository}/commits/{head}/status", _combined_status, before, reads)
        return PullRequestStatus(
            state=pull_state(pull),
            checks=combine_checks(runs["checks"] + status["checks"]),
            review_decision=review_decision(reviews["latest"], pull["reviewers_requested"]),
            mergeable=pull["mergeable"],
            updated_at=dt.datetime.fromisoformat(pull["updated_at"]) if pull["updated_at"] else None,
            reads=reads,
        )

    def _read(
        self, path: str, reduce: Reduce, before: dict[str, dict[str, Any]], reads: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """GET `path` (first page), conditionally on the ETag of the last answer; its reduced fields."""
        known = before.get(path)
        headers = {"If-None-Match": known["etag"]} if known and known.get("etag") else {}
        if self.pace is not None:
            self.pace.before_read()
        status, response_headers, body = self.client.requester.requestJson(
            "GET", path, parameters={"per_page": PAGE}, headers=headers
        )
        if status == 304 and known is not None:
            reads[path] = known
            return dict(known["data"])
        if status >= 400:
            raise GithubException(status, _json(body), response_headers)
        data = reduce(_json(body))
        etag = {k.lower(): v for k, v in response_headers.items()}.get("etag")
        reads[path] = {"etag": etag, "data": data}
        return data


def _json(body: str) -> Any:
    return json.loads(body) if body else None


def github_pull_requests(access: GitHubAccess, pacer: Pacer | None = None) -> GitHubPullRequests:
    """The host `access` reaches: its token and API URL, paced with every run using the token."""
    pace = github_pace(access, pacer)
    return GitHubPullRequests(github_client(access, pace), pace, access.token_value())

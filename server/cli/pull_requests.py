"""`cody-batch prs`: a job's pull requests, and one action on all of them."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

JOB_PULL_REQUESTS = """
query JobPullRequests($id: ID!) {
  job(id: $id) {
    id title
    pullRequests { open draft merged closed checksFailing }
    repositories { id location pullRequest { number url state checks reviewDecision mergeable syncedAt } }
  }
}
"""

REFRESH = "mutation Refresh($id: ID!) { refreshPullRequests(jobId: $id) { id } }"

ACTION = """
mutation PullRequestAction($id: ID!, $action: PullRequestAction!, $comment: String, $dry: Boolean!) {
  pullRequestAction(jobId: $id, action: $action, comment: $comment, dryRun: $dry) {
    runId location number url outcome message
  }
}
"""

STATE_STYLES = {"OPEN": "green", "DRAFT": "dim", "MERGED": "magenta", "CLOSED": "red"}
CHECK_STYLES = {"SUCCESS": "green", "FAILURE": "red", "PENDING": "yellow", "NONE": "dim"}
OUTCOME_STYLES = {"DONE": "green", "WOULD_DO": "cyan", "SKIPPED": "yellow", "FAILED": "red"}


def tally_line(job: dict[str, Any]) -> str:
    """The job's pull requests by state, in one line."""
    t = job["pullRequests"]
    return (
        f"{t['merged']} merged · {t['open']} open · {t['draft']} draft · {t['closed']} closed"
        f" · {t['checksFailing']} failing checks"
    )


def pull_requests_table(job: dict[str, Any]) -> Table:
    """One row per repository: its pull request's state, checks, review decision and link."""
    table = Table("repository", "#", "state", "checks", "review", "url", box=None)
    for run in job["repositories"]:
        pr = run["pullRequest"]
        if pr is None:
            table.add_row(run["location"], "", Text("no pull request", style="dim"), "", "", "")
            continue
        table.add_row(
            run["location"],
            str(pr["number"]),
            Text(pr["state"], style=STATE_STYLES.get(pr["state"], "")),
            Text(pr["checks"], style=CHECK_STYLES.get(pr["checks"], "")),
            pr["reviewDecision"],
            pr["url"],
        )
    return table


def results_table(results: list[dict[str, Any]]) -> Table:
    """One row per pull request an action was asked of: what happened and why."""
    table = Table("repository", "#", "outcome", "why", box=None)
    for result in results:
        number = "" if result["number"] is None else str(result["number"])
        outcome = Text(result["outcome"], style=OUTCOME_STYLES.get(result["outcome"], ""))
        table.add_row(result["location"], number, outcome, result["message"])
    return table

"""A pull-request job's page in headless Chromium while its pull requests are merged and closed on GitHub.

The whole way: `cody-batch serve` (and the AWS code path on its emulator, where the webhook goes
through the HTTP function to the GitHub function and the refresh is a schedule) runs a
3-repository job whose workers open the pull requests on the fake GitHub (real git pushes,
PyGithub); two are then merged and one closed there, and the job page and a graphql-ws subscriber
show each change without a reload — brought by webhook, and, with webhooks off, by the periodic
refresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, run_browser
from tests.e2e.test_spa_browser import SERVERS, _stateless_turn
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_fixtures import TOKEN, fake_github
from tests.fakes.github_server import FakeGitHub, FakePull

__all__ = ["fake_github"]  # a fixture
REPOSITORIES = ["acme/one", "acme/two", "acme/three"]
SECRET = "browser-webhook-secret"
CREATE = """mutation($input: CreateJobInput!) {
  createJob(input: $input) { ... on Job { id } ... on InputError { message } } }"""
STATUS = "query($id: ID!) { job(id: $id) { status repositories { status error { kind message } } } }"
# After each change: #a merged, #b merged, #c closed.
EXPECTED = [
    {"merged": 1, "open": 2, "closed": 0},
    {"merged": 2, "open": 1, "closed": 0},
    {"merged": 2, "open": 0, "closed": 1},
]


def _finished_pull_request_job(server: Server) -> str:
    """Create the job through the API and wait until its runs opened their pull requests."""
    created = server.graphql(
        CREATE,
        {"input": {"prompt": "Say hello", "title": "Hello", "output": "PULL_REQUEST", "repositories": REPOSITORIES}},
    )["createJob"]
    assert "id" in created, created
    job = server.finished_job(created["id"], STATUS)
    assert job["status"] == "SUCCEEDED", (job, server.log.read_text()[-3000:])
    return str(created["id"])


@pytest.mark.parametrize("arrival", ["webhook", "refresh"])
@pytest.mark.parametrize("command", sorted(SERVERS))
def test_merges_and_a_close_on_github_show_on_the_job_page_and_to_a_subscriber_live(
    serve: Callable[..., Server], fake_github: FakeGitHub, output_dir: Path, arrival: str, command: str
) -> None:
    # GIVEN a server on the fake GitHub, with webhooks (secret set) or with a short periodic refresh instead
    for name in REPOSITORIES:
        fake_github.add_repo(name, {"app.py": "print('hi')\n"})
    brought_by = (
        {"CODY_BATCH_GITHUB_WEBHOOK_SECRET": SECRET}
        if arrival == "webhook"
        else {"CODY_BATCH_PULL_REQUEST_REFRESH_SECONDS": "0.5"}
    )
    with FakeAnthropic() as model:
        model.script([_stateless_turn] * 3 * len(REPOSITORIES))
        server = serve(
            {
                "ANTHROPIC_API_KEY": model.api_key,
                "ANTHROPIC_BASE_URL": model.url,
                "GITHUB_TOKEN": TOKEN,
                "CODY_BATCH_GITHUB_API_URL": fake_github.url,
                "CODY_BATCH_ALLOWED_REPOS": "github.com/acme/*",
                "CODY_BATCH_GITHUB_WRITE_INTERVAL": "0.05",
                **brought_by,
            },
            command=SERVERS[command],
        )
        # AND a 3-repository pull-request job that ran, each run opening its pull request there
        job_id = _finished_pull_request_job(server)
    assert sorted(p.repo for p in fake_github.pulls) == sorted(REPOSITORIES)
    pulls = sorted(fake_github.pulls, key=lambda p: p.number)

    def change(index: int) -> None:
        """Change `index`: merge, merge, close; delivered by webhook when webhooks are on."""
        pull: FakePull = pulls[index]
        (fake_github.close_pull if index == 2 else fake_github.merge_pull)(pull.number, pull.repo)
        if arrival == "webhook":
            payload = fake_github.pull_request_payload(pull.number, "closed", pull.repo)
            body, headers = fake_github.delivery("pull_request", payload, SECRET)
            answer = httpx.post(f"{server.url}/webhooks/github", content=body, headers=headers, timeout=30)
            assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text

    # WHEN the job page is open, and each change happens on GitHub once the page shows the one before
    def progress(line: str) -> None:
        if line.startswith("READY "):
            change(int(line.removeprefix("READY ")))

    result = run_browser(
        "pr_flow.mjs",
        [server.url, job_id, str(output_dir), json.dumps(EXPECTED)],
        progress,
        node_flags=["--experimental-websocket"],
    )
    assert "error" not in result, result["error"] + "\n" + server.log.read_text()[-3000:]
    # THEN the page's bar went through each state, in the same document (no reload)
    assert result["pageTallies"] == [{"merged": 0, "open": 3, "closed": 0}, *EXPECTED]
    assert result["sameDocument"] is True
    # AND each pull request's badge followed
    assert sorted(result["badges"][-1]) == ["closed", "merged", "merged"]
    # AND the subscriber saw each change as its own update, in order
    assert result["subscriberTallies"] == [{"merged": 0, "open": 3, "closed": 0}, *EXPECTED]
    assert "subscriberError" not in result
    # AND nothing was loaded from another origin, and no script error happened
    assert result["offOrigin"] == [] and result["pageErrors"] == []

"""A graphql-ws subscriber sees pull requests merged and closed on the fake GitHub as the deliveries arrive."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from core.settings import Settings
from server.web.app import create_app
from store.sqlite import SqliteStore
from tests.fakes.github_server import FakeGitHub
from tests.integration.api.conftest import GraphQLWS
from tests.integration.cli.live_server import LiveServer
from tests.integration.github.conftest import WEBHOOK_SECRET, pr_container
from tests.integration.github.pull_request_jobs import pull_request_job

JOB_UPDATED = """
subscription($id: ID!) { jobUpdated(id: $id) {
  cursor pullRequests { open merged closed } repositories { pullRequest { number state } }
} }
"""


async def test_a_subscriber_sees_two_merges_and_a_close_delivered_by_webhook(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a served three-repository pull-request job and a client subscribed to it
    settings = github_settings.model_copy(update={"github_webhook_secret": SecretStr(WEBHOOK_SECRET)})
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two", "acme/three"])
    server = LiveServer(create_app(pr_container(settings, store), spa_dir=None)).start()
    host = server.url.removeprefix("http://").removesuffix("/graphql")
    ws = await GraphQLWS.open(host)
    try:
        assert (await ws.receive())["type"] == "connection_ack"
        op = await ws.subscribe(JOB_UPDATED, {"id": job.id})
        first = (await ws.next_payload(op))["payload"]["data"]["jobUpdated"]
        assert first["pullRequests"] == {"open": 3, "merged": 0, "closed": 0}
        # WHEN two pull requests are merged and one closed on GitHub, each delivered by webhook
        seen = []
        async with httpx.AsyncClient(base_url=f"http://{host}") as client:
            for number, change in (
                (1, fake_github.merge_pull),
                (2, fake_github.merge_pull),
                (3, fake_github.close_pull),
            ):
                change(number)
                body, headers = fake_github.delivery(
                    "pull_request", fake_github.pull_request_payload(number, "closed"), WEBHOOK_SECRET
                )
                response = await client.post("/webhooks/github", content=body, headers=headers)
                assert response.status_code == 200, response.text
                # THEN the subscriber gets the job with that change, without asking
                seen.append((await ws.next_payload(op))["payload"]["data"]["jobUpdated"]["pullRequests"])
        assert seen == [
            {"open": 2, "merged": 1, "closed": 0},
            {"open": 1, "merged": 2, "closed": 0},
            {"open": 0, "merged": 2, "closed": 1},
        ]
    finally:
        await ws.close()
        server.stop()

"""The optional bearer token: HTTP requests need it; patch links carry a short-lived signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from resolvers.links import signed, verify
from server.runtime.container import Container
from server.web.app import create_app
from tests.unit.api.test_queries import DIFF, finish_run

TOKEN = "s3cret-token"


@pytest.fixture
async def locked(settings, store, dispatcher) -> AsyncIterator[httpx.AsyncClient]:
    settings.api_token = SecretStr(TOKEN)
    app = create_app(Container(settings=settings, store=store, dispatcher=dispatcher, feed=store), spa_dir=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        yield client


async def query(client: httpx.AsyncClient, text: str, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": text}, headers=headers)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic czNjcmV0", TOKEN])
async def test_requests_without_the_token_are_401(locked: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = await query(locked, "{ __typename }", **headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "data" not in response.json()


async def test_the_token_opens_the_api(locked: httpx.AsyncClient) -> None:
    response = await query(locked, "{ __typename }", authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_signed_download_link_works_without_the_token(locked: httpx.AsyncClient, seed_job, store: Any) -> None:
    # GIVEN a finished run on a server with a token
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    finish_run(store, run_id)
    response = await query(
        locked,
        f'{{ job(id: "{job.id}") {{ repositories {{ patch {{ downloadUrl }} }} }} }}',
        authorization=f"Bearer {TOKEN}",
    )
    url = response.json()["data"]["job"]["repositories"][0]["patch"]["downloadUrl"]
    # WHEN the link is fetched without any header THEN it serves the diff
    assert "signature=" in url and TOKEN not in url
    assert (await locked.get(url)).text == DIFF
    # AND the bare path, or a tampered signature, is refused
    path = urlsplit(url).path
    assert (await locked.get(path)).status_code == 401
    params = parse_qs(urlsplit(url).query)
    forged = f"{path}?expires={params['expires'][0]}&signature={'0' * 64}"
    assert (await locked.get(forged)).status_code == 401
    # AND the token itself still opens it
    assert (await locked.get(path, headers={"authorization": f"Bearer {TOKEN}"})).status_code == 200


def test_signatures_expire() -> None:
    url = signed("/jobs/j/runs/r/patch", b"key", now=1000.0)
    params = parse_qs(urlsplit(url).query)
    expires, signature = params["expires"][0], params["signature"][0]
    assert verify("/jobs/j/runs/r/patch", expires, signature, b"key", now=1000.0)
    assert not verify("/jobs/j/runs/r/patch", expires, signature, b"key", now=1000.0 + 3600)
    assert not verify("/jobs/j/runs/OTHER/patch", expires, signature, b"key", now=1000.0)

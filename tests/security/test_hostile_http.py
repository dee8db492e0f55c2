"""Hostile HTTP input: lone surrogates, oversized cursors, JSON that is not JSON text and malformed
link signatures are refused as input, never internal errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from core.settings import Settings
from server.runtime.container import Container
from server.web.app import create_app
from tests.unit.api.conftest import job_count

CREATE = """mutation($input: CreateJobInput!) { createJob(input: $input) {
  __typename ... on InputError { message } ... on Job { id } } }"""


def _raw_body(query: str, variables: dict[str, Any]) -> bytes:
    """A JSON body whose strings keep `\\ud800` escapes (httpx's json= cannot encode them)."""
    return json.dumps({"query": query, "variables": variables}).encode()


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($id: ID!) { job(id: $id) { id } }", {"id": "\ud800"}),
        ("query($id: ID!) { jobEvents(jobId: $id) { cursor } }", {"id": "x\udfff"}),
        (CREATE, {"input": {"prompt": "\ud800", "repositories": ["/srv/a"]}}),
        (CREATE, {"input": {"prompt": "x", "title": "\ud800", "repositories": ["/srv/a"]}}),
    ],
)
async def test_a_lone_surrogate_in_the_body_is_a_400_and_writes_nothing(
    client: httpx.AsyncClient, store: Any, query: str, variables: dict[str, Any]
) -> None:
    # GIVEN a body that is JSON but holds a string no store or path can encode
    body = _raw_body(query, variables)
    assert b"\\ud" in body
    # WHEN it is posted
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    # THEN it is refused as a bad request naming the problem, and no job exists
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["errors"][0]["message"]
    assert job_count(store) == 0


async def test_a_lone_surrogate_in_get_variables_is_a_400(client: httpx.AsyncClient) -> None:
    # GIVEN a GET request whose variables parameter holds a lone surrogate escape
    params = {"query": "query($id: ID!) { job(id: $id) { id } }", "variables": '{"id": "\\ud800"}'}
    # WHEN it is sent THEN it is refused as a bad request
    response = await client.get("/graphql", params=params, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("cursor", ["e" + "9" * 30, "e\u0663\u0663"])
async def test_an_event_cursor_the_store_cannot_hold_is_bad_input(gql, seed_job, cursor: str) -> None:
    # GIVEN a job WHEN its events are read after a cursor too large for a store integer, or of non-ASCII digits
    job = seed_job(1)
    _, body = await gql(
        "query($id: ID!, $c: String) { jobEvents(jobId: $id, after: $c) { cursor } }", {"id": job.id, "c": cursor}
    )
    # THEN the field fails as bad input on `after`, not as an internal error
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "after"


NOT_JSON = [
    pytest.param('{"n": ' + "9" * 5000 + "}", id="an integer past Python's digit limit"),
    pytest.param('{"n": NaN}', id="NaN"),
    pytest.param('{"n": -Infinity}', id="Infinity"),
    pytest.param('{"n": ' + "[" * 5000 + "]" * 5000 + "}", id="nesting deeper than any parser goes"),
]


@pytest.mark.parametrize("variables", NOT_JSON)
async def test_variables_that_are_not_json_text_are_a_400_and_write_nothing(
    client: httpx.AsyncClient, store: Any, variables: str
) -> None:
    # GIVEN a createJob body whose variables Python's json module would accept or choke on, but are not JSON
    body = '{"query": ' + json.dumps(CREATE) + ', "variables": ' + variables + "}"
    # WHEN it is posted, and when its variables come as a GET parameter
    posted = await client.post("/graphql", content=body.encode(), headers={"content-type": "application/json"})
    got = await client.get("/graphql", params={"query": "{ settings { demo } }", "variables": variables})
    # THEN both are bad requests saying the JSON is not valid, never a server error, and no job exists
    assert (posted.status_code, got.status_code) == (400, 400)
    assert "not valid JSON" in posted.json()["errors"][0]["message"]
    assert "not valid JSON" in got.json()["errors"][0]["message"]
    assert job_count(store) == 0


@pytest.fixture
async def behind_a_token(settings: Settings, container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """The API with CODY_BATCH_API_TOKEN set, so patch links are checked for a signature."""
    settings.api_token = SecretStr("s3cret-token")
    transport = httpx.ASGITransport(app=create_app(container, spa_dir=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("expires=%C2%B2&signature=ab", id="a digit int() refuses"),
        pytest.param("expires=" + "9" * 5000 + "&signature=ab", id="past Python's digit limit"),
        pytest.param("expires=99999999999&signature=%C3%A9", id="a non-ASCII signature"),
    ],
)
async def test_a_malformed_download_signature_is_a_401(behind_a_token: httpx.AsyncClient, query: str) -> None:
    # WHEN a patch link comes with a signature no link ever had THEN it is refused like a wrong one
    response = await behind_a_token.get(f"/jobs/j/runs/r/patch?{query}")
    assert response.status_code == 401

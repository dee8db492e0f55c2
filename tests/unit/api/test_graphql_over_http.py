"""GraphQL over HTTP: media types, status codes and request checks (graphql-http audits)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.unit.api.conftest import GRAPHQL_RESPONSE, job_count

TYPENAME = json.dumps({"query": "{ __typename }"})


async def post(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return await client.post("/graphql", content=content, headers={"content-type": "application/json", **headers})


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
    ],
)
async def test_response_media_type_follows_accept(client: httpx.AsyncClient, accept: str, media: str) -> None:
    # GIVEN a valid query WHEN sent with an Accept header
    response = await post(client, TYPENAME, accept=accept)
    # THEN the answer is 200 in the negotiated type, UTF-8
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_missing_accept_means_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=TYPENAME, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await post(client, TYPENAME, accept="application/xml")
    assert response.status_code == 406


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/graphql"])
async def test_unsupported_content_type_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/graphql", content=TYPENAME, headers={"content-type": content_type})
    assert response.status_code == 415


async def test_missing_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=TYPENAME)
    assert response.status_code == 415


async def test_utf8_charset_and_non_ascii_are_accepted(client: httpx.AsyncClient) -> None:
    body = json.dumps({"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}, ensure_ascii=False).encode()
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": None}}


async def test_other_charset_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=TYPENAME, headers={"content-type": "application/json; charset=latin-1"}
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{ "not a JSON',
        b"\xff\xfe{}",
        json.dumps([{"query": "{ __typename }"}]),
        json.dumps("{ __typename }"),
        json.dumps({"notquery": "{ __typename }"}),
        json.dumps({"query": {"obj": "ect"}}),
        json.dumps({"query": 0}),
        json.dumps({"query": False}),
        json.dumps({"query": ["array"]}),
        json.dumps({"query": "{ __typename }", "operationName": 0}),
        json.dumps({"query": "{ __typename }", "operationName": {"obj": "ect"}}),
        json.dumps({"query": "{ __typename }", "variables": "string"}),
        json.dumps({"query": "{ __typename }", "variables": ["array"]}),
        json.dumps({"query": "{ __typename }", "extensions": 0}),
        json.dumps({"query": "{ __typename }", "extensions": "string"}),
        json.dumps({"query": "subscription { jobsUpdated { id } }"}),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_bad_requests_are_400_with_errors(client: httpx.AsyncClient, body: Any, accept: str) -> None:
    # GIVEN a request that is not a well-formed GraphQL request WHEN posted
    response = await post(client, body, accept=accept)
    # THEN 400 with an errors list and no data entry
    assert response.status_code == 400
    payload = response.json()
    assert payload["errors"] and "data" not in payload


@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_null_parameters_are_allowed(client: httpx.AsyncClient, parameter: str) -> None:
    response = await post(client, {"query": "{ __typename }", parameter: None}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_map_variables_and_extensions_are_allowed(client: httpx.AsyncClient) -> None:
    query = "query Type($name: String!) { __type(name: $name) { name } }"
    response = await post(
        client, {"query": query, "variables": {"name": "Job"}, "extensions": {"some": "value"}}, accept=GRAPHQL_RESPONSE
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__type": {"name": "Job"}}


@pytest.mark.parametrize(
    "query",
    [
        "{",  # parse failure
        "{ 8f31403dfe404bccbb0e835f2629c6a7 }",  # validation failure
        "{ jobs(first: 101) { edges { cursor } } }",  # page limit
        "{ a1: __typename a2: __typename " + " ".join(f"x{i}: __typename" for i in range(40)) + " }",  # aliases
    ],
)
async def test_request_errors_status_depends_on_accept(client: httpx.AsyncClient, query: str) -> None:
    # GIVEN a document that fails to parse, validate or pass a limit
    # WHEN the client accepts graphql-response+json THEN 400 and no data entry
    strict = await post(client, {"query": query}, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert strict.json()["errors"] and "data" not in strict.json()
    # WHEN it accepts application/json THEN 200 with errors
    legacy = await post(client, {"query": query}, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.json()["errors"]


async def test_variable_coercion_failure(client: httpx.AsyncClient) -> None:
    body = {"query": "query CoerceFailure($id: ID!){ __typename }", "variables": {"id": None}}
    assert (await post(client, body, accept=GRAPHQL_RESPONSE)).status_code == 400
    legacy = await post(client, body, accept="application/json")
    assert legacy.status_code == 200 and legacy.json()["errors"]


async def test_too_many_tokens_is_a_request_error(client: httpx.AsyncClient) -> None:
    query = "{ " + " ".join("__typename" for _ in range(4000)) + " }"
    response = await post(client, {"query": query}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert "token" in response.json()["errors"][0]["message"].lower()


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Type($name: String!) { __type(name: $name) { name } }",
            "variables": json.dumps({"name": "Job"}),
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"__type": {"name": "Job"}}}


async def test_get_refuses_mutations_with_405(client: httpx.AsyncClient, store: Any) -> None:
    before = job_count(store)
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { createJob(input: {prompt: "x", repositories: []}) { __typename } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert job_count(store) == before


async def test_get_with_malformed_variables_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "{nope"})
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql", content=TYPENAME, headers={"content-type": "application/json"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_oversized_body_by_content_length_is_413(client: httpx.AsyncClient, settings: Any, store: Any) -> None:
    # GIVEN a createJob whose body is over the limit
    before = job_count(store)
    prompt = "x" * (settings.max_body_bytes + 10)
    body = {
        "query": "mutation($p: String!) { createJob(input: {prompt: $p, repositories: []}) { __typename } }",
        "variables": {"p": prompt},
    }
    response = await post(client, body)
    # THEN 413, and no job was written
    assert response.status_code == 413
    assert job_count(store) == before


async def test_oversized_streamed_body_is_413(client: httpx.AsyncClient, settings: Any) -> None:
    # GIVEN a chunked body without Content-Length that grows past the limit
    async def chunks():
        yield b'{"query": "{ __typename }", "extensions": {"pad": "'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413

"""Several operations in one document: operationName picks one, and without it the request is refused."""

from __future__ import annotations

from tests.unit.api.conftest import GRAPHQL_RESPONSE

TWO = "query A { settings { demo } } query B { settings { backend } }"


async def test_without_operation_name_several_operations_are_a_request_error(client) -> None:
    # GIVEN a document with two operations WHEN posted without operationName
    plain = await client.post("/graphql", json={"query": TWO})
    strict = await client.post("/graphql", json={"query": TWO}, headers={"accept": GRAPHQL_RESPONSE})
    # THEN nothing runs: no data, an error saying what to do; 400 with the GraphQL response type
    assert plain.status_code == 200 and "data" not in plain.json()
    assert "operationName" in plain.json()["errors"][0]["message"]
    assert strict.status_code == 400 and "data" not in strict.json()


async def test_operation_name_picks_the_operation(client) -> None:
    answer = await client.post("/graphql", json={"query": TWO, "operationName": "B"})
    assert answer.status_code == 200
    assert answer.json() == {"data": {"settings": {"backend": "local"}}}

"""The app's other routes: health, config.json, GraphiQL, and the SPA with client-route fallback."""

from __future__ import annotations

from pathlib import Path

import httpx

from server.runtime.container import Container
from server.web.app import create_app


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_config_json_is_derived_from_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/config.json", headers={"host": "localhost:8123"})
    assert response.json() == {
        "graphqlUrl": "http://localhost:8123/graphql",
        "websocketUrl": "ws://localhost:8123/graphql",
    }


async def test_browser_get_graphql_without_spa_serves_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_spa_is_served_with_index_fallback(container: Container, spa_dir: Path) -> None:
    # GIVEN a built SPA
    (spa_dir / "assets").mkdir(parents=True)
    (spa_dir / "index.html").write_text("<!doctype html><title>Cody Batch</title>")
    (spa_dir / "assets" / "app.js").write_text("console.log('app')")
    app = create_app(container, spa_dir=spa_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        # WHEN the root, an asset, client routes and a missing asset are fetched
        root = await client.get("/")
        asset = await client.get("/assets/app.js")
        route = await client.get("/jobs/01ABC")
        graphiql = await client.get("/graphiql")
        missing = await client.get("/assets/missing.js")
        browser = await client.get("/graphql", headers={"accept": "text/html"})
        api = await client.post("/graphql", json={"query": "{ __typename }"})
    # THEN files are served, client routes get index.html, missing files 404, /graphql redirects browsers
    assert "Cody Batch" in root.text
    assert asset.text == "console.log('app')"
    assert "Cody Batch" in route.text and "Cody Batch" in graphiql.text
    assert missing.status_code == 404
    assert browser.status_code == 302 and browser.headers["location"] == "/graphiql"
    assert api.json() == {"data": {"__typename": "Query"}}

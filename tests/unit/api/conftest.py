"""API fixtures: a container with a recording dispatcher, the ASGI app and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.runtime.container import Container
from server.web.app import create_app
from tests.fakes.dispatcher import RecordingDispatcher

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def container(settings: Settings, store: Any, dispatcher: RecordingDispatcher) -> Container:
    return Container(settings=settings, store=store, dispatcher=dispatcher, feed=store)


@pytest.fixture
def spa_dir(tmp_path: Path) -> Path:
    """No SPA build unless a test writes one here."""
    return tmp_path / "dist"


@pytest.fixture
async def client(container: Container, spa_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container, spa_dir=spa_dir)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http_client:
        yield http_client


Gql = Callable[..., Any]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Gql:
    """POST a GraphQL operation; returns (status, body)."""

    async def post(
        query: str, variables: dict[str, Any] | None = None, accept: str = "application/json", **headers: str
    ) -> tuple[int, dict[str, Any]]:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"accept": accept, **headers}
        )
        return response.status_code, response.json()

    return post


@pytest.fixture
def seed_job(store: Any, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]):
    """Create a stored job over `n` fresh repositories, the way createJob would."""
    counter = {"n": 0}

    def seed(n: int = 1, prompt: str = "Add type hints") -> Any:
        repos = []
        for _ in range(n):
            counter["n"] += 1
            repos.append(str(make_repo(f"repo{counter['n']}")))
        return create_job(store, dispatcher, settings, JobRequest(prompt=prompt, repositories=repos))

    return seed


def job_count(store: Any) -> int:
    return len(store.list_jobs(100).jobs)

"""Fixtures of the GitHub integration tests: the fake GitHub, settings pointing at it, a fake Claude."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pydantic import SecretStr

from core.settings import Settings
from server.runtime.container import Container
from server.runtime.worker_config import github_access
from server.web.app import create_app
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.github_fixtures import clone_of, fake_github, github_settings
from tests.fakes.github_server import FakeGitHub
from worker.github.pull_status import github_pull_requests

__all__ = ["clone_of", "fake_github", "fake_model", "github_settings"]
WEBHOOK_SECRET = "webhook-secret"


@pytest.fixture
def app(fake_github: FakeGitHub) -> FakeGitHub:
    """The fake GitHub with one repository, acme/app, holding app.py and a README."""
    fake_github.add_repo("acme/app", {"app.py": "print('hi')\n", "README.md": "# app\n"})
    return fake_github


@pytest.fixture
def fake_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
async def pr_client(github_settings: Settings, store: SqliteStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the fake GitHub: pull requests read through PyGithub, deliveries signed with WEBHOOK_SECRET."""
    settings = github_settings.model_copy(update={"github_webhook_secret": SecretStr(WEBHOOK_SECRET)})
    transport = httpx.ASGITransport(app=create_app(pr_container(settings, store), spa_dir=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


def pr_container(settings: Settings, store: SqliteStore) -> Container:
    """A server's container whose pull requests are read from (and written to) GitHub as `settings` say."""
    return Container(
        settings=settings,
        store=store,
        dispatcher=RecordingDispatcher(),
        feed=store,
        pull_requests=github_pull_requests(github_access(settings)),
    )

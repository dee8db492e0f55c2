"""Fixtures of the GitHub integration tests: the fake GitHub, settings pointing at it, a fake Claude."""

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_fixtures import clone_of, fake_github, github_settings
from tests.fakes.github_server import FakeGitHub

__all__ = ["clone_of", "fake_github", "fake_model", "github_settings"]


@pytest.fixture
def app(fake_github: FakeGitHub) -> FakeGitHub:
    """The fake GitHub with one repository, acme/app, holding app.py and a README."""
    fake_github.add_repo("acme/app", {"app.py": "print('hi')\n", "README.md": "# app\n"})
    return fake_github


@pytest.fixture
def fake_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake

"""Fault matrix fixtures: the fake model of the worker's suite, and real `serve` processes over one data dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import Settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_fixtures import fake_github, github_settings
from tests.fakes.held_turn import SecondTurnHeld

# Fixtures are found by name in a conftest, so importing them here lends them to this suite.
from tests.integration.worker.conftest import fake_model, make_dispatcher, model_settings
from tests.security.serve_process import ServeProcess, serves_with_model

__all__ = ["fake_github", "fake_model", "github_settings", "make_dispatcher", "model_settings"]


@pytest.fixture
def serve_on_data_dir(
    tmp_path: Path, repos_dir: Path, fake_model: FakeAnthropic
) -> Iterator[Callable[[], ServeProcess]]:
    """Start `serve` on one data dir (again and again), five workers, the fake model; all killed after."""
    workers, turns = "5", "500"  # a run of a model that never finishes goes on until it is stopped
    with serves_with_model(
        tmp_path, repos_dir, fake_model.url, CODY_BATCH_WORKERS=workers, CODY_BATCH_MAX_TURNS=turns
    ) as start:
        yield start


@pytest.fixture
def github_model_settings(github_settings: Settings, fake_model: FakeAnthropic) -> Settings:
    """Settings reaching both the fake GitHub and the fake model."""
    return github_settings.model_copy(
        update={"anthropic_api_key": SecretStr(fake_model.api_key), "anthropic_base_url": fake_model.url}
    )


@pytest.fixture
def second_turn() -> Iterator[SecondTurnHeld]:
    """A model that edits in turn 1 and holds turn 2 until released (at the end, whatever the test did)."""
    model = SecondTurnHeld()
    yield model
    model.released.set()  # frees the fake's request threads

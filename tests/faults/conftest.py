"""Fault matrix fixtures: the fake model of the worker's suite, and real `serve` processes over one data dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.integration.cli.live_server import free_port

# Fixtures are found by name in a conftest, so importing them here lends them to this suite.
from tests.integration.worker.conftest import fake_model, model_settings
from tests.security.processes import descendants, kill_all
from tests.security.serve_process import ServeProcess, start_serve

__all__ = ["fake_model", "model_settings"]


@pytest.fixture
def serve_on_data_dir(
    tmp_path: Path, repos_dir: Path, fake_model: FakeAnthropic
) -> Iterator[Callable[[], ServeProcess]]:
    """Start `serve` on one data dir (again and again), its workers talking to the fake model; all killed after."""
    started: list[ServeProcess] = []

    def start() -> ServeProcess:
        served = start_serve(
            tmp_path,
            tmp_path / "data",
            free_port(),
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=fake_model.url,
            CODY_BATCH_ALLOWED_REPOS=f"{repos_dir}/*",
            CODY_BATCH_WORKERS="5",
        )
        started.append(served)
        return served

    yield start
    workers: set[int] = set()
    for served in started:
        workers |= descendants(served.proc.pid)
        served.kill()
    kill_all(workers)

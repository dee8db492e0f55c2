"""Hostile cases (API input, repository content, tool calls, process faults) on the fixtures of the
suites they attack: the ASGI client and live server of the API tests, the fake model of the worker's."""

from __future__ import annotations

# Fixtures are found by name in a conftest, so importing them here lends them to this suite.
from tests.faults.conftest import serve_on_data_dir
from tests.integration.api.conftest import live_server
from tests.integration.worker.conftest import fake_model, held, make_dispatcher, model_settings
from tests.unit.api.conftest import client, container, dispatcher, gql, seed_job, spa_dir

__all__ = [
    "client",
    "container",
    "dispatcher",
    "fake_model",
    "gql",
    "held",
    "live_server",
    "make_dispatcher",
    "model_settings",
    "seed_job",
    "serve_on_data_dir",
    "spa_dir",
]

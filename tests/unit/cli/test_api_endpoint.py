"""The command line's light read of CODY_BATCH_URL and CODY_BATCH_API_TOKEN agrees with the full settings."""

from __future__ import annotations

import os

import pytest

from core.api_endpoint import api_endpoint
from core.settings import Settings


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"CODY_BATCH_URL": "https://cody.example.com/graphql"},
        {"cody_batch_url": "http://box.lan:9000/graphql", "cody_batch_api_token": "lower-case names"},
        {"CODY_BATCH_API_TOKEN": "s3cret"},
        {"CODY_BATCH_API_TOKEN": ""},
        {"CODY_BATCH_URL": ""},
    ],
)
def test_the_endpoint_is_what_the_settings_say(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an environment with (or without) the two variables
    for name in list(os.environ):
        if name.lower().startswith("cody_batch_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # WHEN both read it
    settings = Settings()
    endpoint = api_endpoint(os.environ)
    # THEN they name the same URL and the same token (an empty one is none)
    assert endpoint.url == settings.url
    expected = settings.api_token.get_secret_value() if settings.api_token else None
    assert endpoint.token == expected

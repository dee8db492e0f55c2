"""The API token check: bearer scheme only, exact token, the same rule for headers and WebSocket params."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from core.settings import Settings
from server.web.auth import TokenGuard


def guard(token: str | None, tmp_path: Any) -> TokenGuard:
    return TokenGuard(Settings(data_dir=tmp_path, api_token=None if token is None else SecretStr(token)))


def test_without_a_token_everything_is_let_through_and_nothing_is_signed(tmp_path: Any) -> None:
    open_guard = guard(None, tmp_path)
    assert open_guard.enabled is False and open_guard.signing_key is None
    assert open_guard.accepts(None) and open_guard.accepts("Bearer anything")
    assert open_guard.accepts_connection_params(None)
    empty = guard("", tmp_path)
    assert empty.enabled is False and empty.signing_key is None and empty.accepts(None)


@pytest.mark.parametrize(
    ("authorization", "accepted"),
    [
        ("Bearer tok", True),
        ("bearer tok", True),
        ("BEARER  tok ", True),
        ("Bearer tok2", False),
        ("Bearer to", False),
        ("Bearer", False),
        ("Bearertok", False),
        ("Basic tok", False),
        ("tok", False),
        ("", False),
        (None, False),
    ],
)
def test_only_the_token_under_the_bearer_scheme_is_accepted(
    authorization: str | None, accepted: bool, tmp_path: Any
) -> None:
    locked = guard("tok", tmp_path)
    assert locked.enabled is True
    assert locked.accepts(authorization) is accepted
    assert locked.accepts_headers({} if authorization is None else {"authorization": authorization}) is accepted


@pytest.mark.parametrize(
    ("params", "accepted"),
    [
        ({"authorization": "Bearer tok"}, True),
        ({"Authorization": "Bearer tok"}, True),
        ({"other": "x", "AUTHORIZATION": "Bearer tok"}, True),
        ({"authorization": "Bearer nope"}, False),
        ({"authorization": ["Bearer tok"]}, False),
        ({"token": "tok"}, False),
        ({}, False),
        (None, False),
    ],
)
def test_connection_init_params_carry_the_token_like_the_header(
    params: dict[str, Any] | None, accepted: bool, tmp_path: Any
) -> None:
    assert guard("tok", tmp_path).accepts_connection_params(params) is accepted


def test_the_signing_key_is_derived_from_the_token_and_is_not_the_token(tmp_path: Any) -> None:
    key = guard("tok", tmp_path).signing_key
    assert key is not None and len(key) == 32 and b"tok" not in key
    assert guard("tok", tmp_path).signing_key == key  # every server with the same token verifies the same links
    assert guard("tok2", tmp_path).signing_key != key

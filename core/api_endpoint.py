"""Where the command line reaches the API: CODY_BATCH_URL and CODY_BATCH_API_TOKEN, read without pydantic.

`core.settings` reads the same two variables, among all the others, for the server. The command
line's client commands need only these two, and pydantic-settings alone takes longer to load than
the 0.3 s a command may take to start. Names match as pydantic-settings matches them (case does
not matter), and an empty token is no token, as an empty `SecretStr` is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
URL_VARIABLE = "cody_batch_url"
TOKEN_VARIABLE = "cody_batch_api_token"


@dataclass(frozen=True)
class ApiEndpoint:
    """The GraphQL URL and the bearer token (None: send none)."""

    url: str
    token: str | None


def api_endpoint(environ: Mapping[str, str]) -> ApiEndpoint:
    """The endpoint `environ` names, defaults filled in."""
    lowered = {name.lower(): value for name, value in environ.items()}
    return ApiEndpoint(lowered.get(URL_VARIABLE, DEFAULT_URL), lowered.get(TOKEN_VARIABLE) or None)

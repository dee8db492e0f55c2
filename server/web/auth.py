"""The optional API bearer token (CODY_BATCH_API_TOKEN) and the key signing download links."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from core.settings import Settings


class TokenGuard:
    """Checks bearer tokens when the server has one; lets everything through otherwise."""

    def __init__(self, settings: Settings) -> None:
        token = settings.api_token
        self._token = None if token is None else token.get_secret_value()

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    @property
    def signing_key(self) -> bytes | None:
        """Key of download-link signatures: derived from the token, never the token itself."""
        if not self._token:
            return None
        return hmac.new(self._token.encode(), b"cody-batch download links", hashlib.sha256).digest()

    def accepts(self, authorization: str | None) -> bool:
        """Whether an `Authorization` value carries the token (always, when none is set)."""
        if not self._token:
            return True
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        return hmac.compare_digest(authorization[7:].strip().encode(), self._token.encode())

    def accepts_headers(self, headers: Mapping[str, str]) -> bool:
        return self.accepts(headers.get("authorization"))

    def accepts_connection_params(self, params: Mapping[str, Any] | None) -> bool:
        """graphql-transport-ws `connection_init` payload: {"authorization": "Bearer ..."}."""
        value = None
        for key, item in (params or {}).items():
            if key.lower() == "authorization" and isinstance(item, str):
                value = item
        return self.accepts(value)

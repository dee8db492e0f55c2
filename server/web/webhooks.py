"""POST /webhooks/github: deliveries verified by their X-Hub-Signature-256, then handed to the core service.

Verification comes first, on the raw bytes, before anything is parsed: an unsigned, badly
signed or altered delivery is refused (401) and reaches nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.errors import CodyBatchError
from core.services.webhooks import Delivery, WebhookRefused, handle_delivery
from server.runtime.container import Container
from server.web.http_params import HTTPProblem, read_body
from server.web.json_text import InvalidJSONText, load_json_text

log = logging.getLogger(__name__)
SIGNATURE_PREFIX = "sha256="


def signature(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for `body` signed with `secret`."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> None:
    """Refuse (401) a delivery whose signature is missing or is not `body`'s under `secret`."""
    if not header:
        raise HTTPProblem(401, "the delivery is not signed (X-Hub-Signature-256 missing)")
    # Constant time: how much of a guess matched must not show in how long the answer takes.
    if not hmac.compare_digest(signature(secret, body).encode(), header.strip().encode()):
        raise HTTPProblem(401, "the delivery's signature does not match its body and the webhook secret")


class GitHubWebhook:
    """The endpoint: verify, parse, hand to `handle_delivery` (off the event loop: it talks to GitHub)."""

    def __init__(self, container: Container) -> None:
        self.container = container

    async def endpoint(self, request: Request) -> JSONResponse:
        try:
            return await self._handle(request)
        except HTTPProblem as err:
            return JSONResponse({"error": err.message}, status_code=err.status, headers=err.headers)
        except WebhookRefused as err:
            return JSONResponse({"error": err.message}, status_code=err.status)

    async def _handle(self, request: Request) -> JSONResponse:
        settings = self.container.settings
        host = self.container.pull_requests
        if settings.github_webhook_secret is None or host is None:
            raise HTTPProblem(404, "GitHub webhooks are not configured (CODY_BATCH_GITHUB_WEBHOOK_SECRET)")
        body = await read_body(request, settings.max_body_bytes)
        verify(
            settings.github_webhook_secret.get_secret_value().encode(), body, request.headers.get("x-hub-signature-256")
        )
        delivery_id = request.headers.get("x-github-delivery", "").strip()
        event = request.headers.get("x-github-event", "").strip()
        if not delivery_id or not event:
            raise HTTPProblem(400, "X-GitHub-Delivery and X-GitHub-Event are required")
        try:
            payload = load_json_text(body)
        except InvalidJSONText:
            raise HTTPProblem(400, "the delivery is not valid JSON") from None
        if not isinstance(payload, dict):
            raise HTTPProblem(400, "the delivery must be a JSON object")
        delivery = Delivery(id=delivery_id, event=event, payload=payload)
        try:
            outcome = await asyncio.to_thread(handle_delivery, self.container.store, host, delivery)
        except WebhookRefused:
            raise
        except CodyBatchError as err:
            log.warning("webhook delivery %s not applied: %s", delivery_id, err)
            raise HTTPProblem(502, f"the delivery could not be applied: {err}") from None
        return JSONResponse({"delivery": delivery_id, "outcome": outcome.value})

"""The local ASGI app: GraphQL (HTTP + WebSocket), patch downloads, config, health, the SPA."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from resolvers.context import EventFeed
from schema.build import get_schema
from server.runtime.container import Container
from server.runtime.event_tail import EventTail
from server.runtime.loop_reads import LoopReader
from server.runtime.pull_request_poller import PullRequestPoller, refresh_interval
from server.web.allowed_hosts import AllowedHosts, allowed_host_names
from server.web.auth import TokenGuard
from server.web.context import connection_context, request_context
from server.web.downloads import PatchDownload
from server.web.http import GraphQLHTTP
from server.web.webhooks import GitHubWebhook
from server.web.websocket import GraphQLWebSocket

SPA_DIR = Path(__file__).resolve().parents[2] / "frontend" / "dist"
GRAPHQL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The collector's thresholds once the server runs (CPython's are 700, 10, 10): young collections 14
# times rarer, and full ones rarer still, which with 500 subscribers still took 0.4-1.0 s each after
# the freeze below, three times a round of bench/subscription_load_bench.py (docs/DESIGN.md).
GC_THRESHOLDS = (10_000, 50, 100)


class SinglePageApp(StaticFiles):
    """The built SPA; client routes (/jobs/..., /graphiql) fall back to index.html."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as err:
            if err.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
            return FileResponse(Path(str(self.directory)) / "index.html")


def _config(request: Request) -> JSONResponse:
    http_base = f"{request.url.scheme}://{request.url.netloc}"
    ws_scheme = "wss" if request.url.scheme == "https" else "ws"
    return JSONResponse(
        {"graphqlUrl": f"{http_base}/graphql", "websocketUrl": f"{ws_scheme}://{request.url.netloc}/graphql"}
    )


def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(container: Container, spa_dir: Path | None = SPA_DIR) -> Starlette:
    """The Starlette app over a built container (the caller closes the container)."""
    guard = TokenGuard(container.settings)
    # Locally the loop makes the small reads of a live update itself (server/runtime/loop_reads.py).
    reader = None if container.feed is None else LoopReader(container.feed)
    tail = None
    if container.feed is not None:
        tail = EventTail(container.feed, container.settings.feed_poll_seconds, reader=reader)
    feed: EventFeed | None = tail
    schema = get_schema()
    spa = spa_dir if spa_dir is not None and (spa_dir / "index.html").is_file() else None
    http = GraphQLHTTP(
        schema,
        lambda: request_context(container, guard, feed, reader),
        guard,
        container.settings.max_body_bytes,
        graphiql_redirect=spa is not None,
    )
    websocket = GraphQLWebSocket(schema, lambda: connection_context(container, guard, feed, reader), guard)
    routes: list[BaseRoute] = [
        Route("/graphql", http.endpoint, methods=GRAPHQL_METHODS),
        WebSocketRoute("/graphql", websocket),
        Route("/healthz", _health),
        Route("/config.json", _config),
        Route("/jobs/{job_id}/runs/{run_id}/patch", PatchDownload(container, guard).endpoint),
        # Not behind the API token: GitHub cannot send it; the signature is the credential.
        Route("/webhooks/github", GitHubWebhook(container).endpoint, methods=["POST"]),
    ]
    if spa is not None:
        routes.append(Mount("/", SinglePageApp(directory=spa, html=True), name="spa"))

    interval = refresh_interval(container.settings)
    poller = None
    if interval is not None and container.pull_requests is not None:
        poller = PullRequestPoller(container.store, container.pull_requests, interval)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What is loaded by now (about 190,000 objects: the schema, the SDKs) lives as long as the
        # server. Out of the collector's sight, a full collection scans only what came after: it
        # took 0.1-0.8 s before, a stall every live update in flight waited for.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        if tail is not None:
            tail.start()
        if poller is not None:
            poller.start()
        app.state.pull_request_poller = poller
        try:
            yield
        finally:
            if poller is not None:
                await poller.stop()
            if tail is not None:
                await tail.stop()

    # Outermost: a request naming another host (DNS rebinding) reaches nothing else.
    allowed = Middleware(AllowedHosts, names=allowed_host_names(container.settings))
    return Starlette(routes=routes, lifespan=lifespan, middleware=[allowed])

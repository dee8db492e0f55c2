"""The HTTP API on Lambda: `/graphql`, the patch download, `/config.json` and GitHub's webhook, as an
ASGI app for Mangum.

The same pieces as the local server (GraphQL over HTTP, downloads, the token guard); no
WebSocket route (API Gateway's WebSocket API calls websocket_handler) and no SPA (CloudFront
serves it from S3).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.settings import Settings
from server.aws.lambda_runtime import AwsRuntime
from server.runtime.container import Container
from server.web.context import request_context
from server.web.downloads import PatchDownload
from server.web.http import GraphQLHTTP

GRAPHQL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def websocket_url(settings: Settings) -> str | None:
    """Where clients open the WebSocket: CODY_BATCH_WEBSOCKET_URL, else the callback URL as wss://."""
    if settings.websocket_url:
        return settings.websocket_url
    endpoint = settings.ws_endpoint
    if not endpoint:
        return None
    scheme, _, rest = endpoint.partition("://")
    return f"{'ws' if scheme == 'http' else 'wss'}://{rest}"


def create_http_app(runtime: AwsRuntime) -> Starlette:
    """The ASGI app of the HTTP API over the runtime's ports."""
    container = Container(
        settings=runtime.settings,
        store=runtime.store,
        dispatcher=runtime.dispatcher,
        pull_requests=runtime.pull_requests,
    )
    guard = runtime.guard
    http = GraphQLHTTP(
        runtime.schema,
        lambda: request_context(container, guard, None),
        guard,
        runtime.settings.max_body_bytes,
        graphiql_redirect=False,
    )
    socket_url = websocket_url(runtime.settings)

    async def github_webhook(request: Request) -> Response:
        # Loaded by the first delivery: the webhook services are no part of a GraphQL request's cold start.
        from server.web.webhooks import GitHubWebhook

        return await GitHubWebhook(container).endpoint(request)

    def config(request: Request) -> JSONResponse:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse({"graphqlUrl": f"{base}/graphql", "websocketUrl": socket_url})

    return Starlette(
        routes=[
            Route("/graphql", http.endpoint, methods=GRAPHQL_METHODS),
            Route("/config.json", config),
            Route("/jobs/{job_id}/runs/{run_id}/patch", PatchDownload(container, guard).endpoint),
            Route("/webhooks/github", github_webhook, methods=["POST"]),
        ]
    )

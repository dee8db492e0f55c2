"""GraphQL over HTTP (the graphql-over-http spec): negotiation, status codes, limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from resolvers.context import Context
from server.web.auth import TokenGuard
from server.web.http_params import (
    GRAPHQL_RESPONSE,
    JSON,
    GraphQLParams,
    HTTPProblem,
    accepts_html,
    check_content_type,
    graphql_params,
    negotiate,
    parse_json_body,
    query_string_data,
    read_body,
)

ContextFactory = Callable[[], Context]


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _respond(payload: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(payload), status_code=status, media_type=f"{media}; charset=utf-8", headers=headers)


def _is_request_error(result: ExecutionResult) -> bool:
    """An error before execution began (parse, validation, variable coercion): no data at all."""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


class GraphQLHTTP:
    """The `/graphql` endpoint for GET and POST."""

    def __init__(
        self,
        schema: strawberry.Schema,
        make_context: ContextFactory,
        guard: TokenGuard,
        max_body_bytes: int,
        graphiql_redirect: bool,
    ) -> None:
        self.schema = schema
        self.make_context = make_context
        self.guard = guard
        self.max_body_bytes = max_body_bytes
        self.graphiql_redirect = graphiql_redirect

    async def endpoint(self, request: Request) -> Response:
        """Answer one HTTP request to /graphql."""
        media = negotiate(request.headers.get("accept")) or JSON
        try:
            return await self._handle(request)
        except HTTPProblem as problem:
            return _respond({"errors": [{"message": problem.message}]}, problem.status, media, problem.headers)

    async def _handle(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            raise HTTPProblem(405, "GraphQL accepts GET and POST", {"Allow": "GET, POST"})
        if request.method == "GET" and "query" not in request.query_params and accepts_html(request):
            return self._graphiql()
        if not self.guard.accepts_headers(request.headers):
            raise HTTPProblem(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
        media = negotiate(request.headers.get("accept"))
        if media is None:
            raise HTTPProblem(406, f"acceptable response types: {GRAPHQL_RESPONSE}, {JSON}")
        if request.method == "GET":
            params = graphql_params(query_string_data(request))
            allowed = {OperationType.QUERY}
        else:
            check_content_type(request.headers.get("content-type"))
            params = graphql_params(parse_json_body(await read_body(request, self.max_body_bytes)))
            allowed = {OperationType.QUERY, OperationType.MUTATION}
        result = await self._execute(params, allowed, request.method)
        return self._result_response(result, media)

    def _graphiql(self) -> Response:
        if self.graphiql_redirect:
            return RedirectResponse("/graphiql", status_code=302)
        from strawberry.http.ides import get_graphql_ide_html  # a browser's page: no API call loads it

        return HTMLResponse(get_graphql_ide_html("graphiql"))

    async def _execute(self, params: GraphQLParams, allowed: set[OperationType], method: str) -> ExecutionResult:
        try:
            return await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=self.make_context(),
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as err:
            if err.operation_type is OperationType.MUTATION and method == "GET":
                raise HTTPProblem(405, "mutations need POST", {"Allow": "POST"}) from None
            raise HTTPProblem(400, "subscriptions need the WebSocket endpoint (graphql-transport-ws)") from None
        except CannotGetOperationTypeError as err:
            raise HTTPProblem(400, err.as_http_error_reason()) from None
        except MissingQueryError:
            raise HTTPProblem(400, "the request has no query") from None

    def _result_response(self, result: ExecutionResult, media: str) -> Response:
        errors = [error.formatted for error in result.errors or ()]
        if _is_request_error(result):
            # No data entry at all: the operation never ran.
            return _respond({"errors": errors}, 400 if media == GRAPHQL_RESPONSE else 200, media)
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = errors
        if result.extensions:
            payload["extensions"] = result.extensions
        return _respond(payload, 200, media)

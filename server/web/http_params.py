"""GraphQL-over-HTTP request parsing: media types, size limit, and the request parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from server.web.json_text import InvalidJSONText, NotUnicodeText, load_json_text

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
_EXACT, _SUBTYPE_WILDCARD, _WILDCARD = 3, 2, 1


class HTTPProblem(Exception):
    """A request refused before GraphQL runs: a status, a message, optional headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLParams:
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


def _media_params(value: str) -> tuple[str, dict[str, str]]:
    media, *rest = value.split(";")
    params = {}
    for item in rest:
        key, _, val = item.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def _quality(params: dict[str, str]) -> float:
    try:
        return max(0.0, min(1.0, float(params.get("q", "1"))))
    except ValueError:
        return 0.0


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when neither JSON type is acceptable.

    A missing Accept, `*/*` and `application/*` get application/json (the spec's rule until
    its watershed); application/graphql-response+json wins only when named and not outranked.
    """
    if not accept or not accept.strip():
        return JSON
    best: dict[str, tuple[float, int]] = {JSON: (0.0, 0), GRAPHQL_RESPONSE: (0.0, 0)}
    for part in accept.split(","):
        if not part.strip():
            continue
        media, params = _media_params(part)
        charset = params.get("charset")
        if charset and charset not in ("utf-8", "utf8"):
            continue
        quality = _quality(params)
        for candidate in best:
            if media == candidate:
                specificity = _EXACT
            elif media == "application/*":
                specificity = _SUBTYPE_WILDCARD
            elif media == "*/*":
                specificity = _WILDCARD
            else:
                continue
            # The most specific range that matches decides the quality (RFC 9110).
            if specificity > best[candidate][1]:
                best[candidate] = (quality, specificity)
    json_q, _ = best[JSON]
    response_q, response_spec = best[GRAPHQL_RESPONSE]
    if response_spec == _EXACT and response_q > 0 and response_q >= json_q:
        return GRAPHQL_RESPONSE
    if json_q > 0:
        return JSON
    return None


def accepts_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) one over `limit` by its Content-Length or its real size."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HTTPProblem(400, "invalid Content-Length")
        if int(declared) > limit:
            raise HTTPProblem(413, f"request body over {limit} bytes")
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_content_type(value: str | None) -> None:
    """POST bodies must be JSON in UTF-8 (415 otherwise)."""
    if not value:
        raise HTTPProblem(415, "send the request as Content-Type: application/json")
    media, params = _media_params(value)
    if media != JSON:
        raise HTTPProblem(415, f"unsupported content type {media}; use application/json")
    charset = params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise HTTPProblem(415, f"unsupported charset {charset}; use utf-8")


def parse_json_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a POST body (400 for an empty, malformed or non-object one)."""
    if not body.strip():
        raise HTTPProblem(400, "the request body is empty; send a JSON object with a query")
    try:
        data = load_json_text(body.decode("utf-8"))
    except NotUnicodeText as err:
        raise HTTPProblem(400, f"the request body is not valid: {err}") from None
    except (UnicodeDecodeError, InvalidJSONText):
        raise HTTPProblem(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPProblem(400, "the request body must be a JSON object (batches are not supported)")
    return data


def _json_param(name: str, value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        return load_json_text(value)
    except NotUnicodeText as err:
        raise HTTPProblem(400, f"the {name} parameter is not valid: {err}") from None
    except InvalidJSONText:
        raise HTTPProblem(400, f"the {name} parameter is not valid JSON") from None


def query_string_data(request: Request) -> dict[str, Any]:
    """The parameters of a GET request (variables and extensions as JSON strings)."""
    params = request.query_params
    return {
        "query": params.get("query"),
        "operationName": params.get("operationName") or None,
        "variables": _json_param("variables", params.get("variables")),
        "extensions": _json_param("extensions", params.get("extensions")),
    }


def graphql_params(data: dict[str, Any]) -> GraphQLParams:
    """Checked request parameters (400 for a missing query or a parameter of the wrong type)."""
    query = data.get("query")
    if query is None:
        raise HTTPProblem(400, "the request has no query")
    if not isinstance(query, str):
        raise HTTPProblem(400, "query must be a string")
    if not query.strip():
        raise HTTPProblem(400, "the query is empty")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPProblem(400, "operationName must be a string or null")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPProblem(400, "variables must be an object or null")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPProblem(400, "extensions must be an object or null")
    return GraphQLParams(query=query, operation_name=operation_name, variables=variables, extensions=extensions)

"""The GraphQL-over-HTTP spec, audited by the graphql-http project's own suite against a live server."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.conftest import Server, run_browser


def test_every_must_and_should_audit_of_graphql_http_passes(serve: Callable[..., Server]) -> None:
    # GIVEN the real server
    server = serve({})
    lines: list[str] = []
    # WHEN graphql-http's audit suite runs against /graphql
    result = run_browser("graphql_http_audit.mjs", [f"{server.url}/graphql"], lines.append)
    # THEN every audit, MUST and SHOULD alike, is met
    assert result["failures"] == [], "\n".join(lines)
    assert result["total"] >= 50 and sum(line.startswith("ok ") for line in lines) == result["total"]

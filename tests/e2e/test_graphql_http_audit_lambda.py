"""The GraphQL-over-HTTP audit through http_handler, behind the emulator's API Gateway (moto in-process)."""

from __future__ import annotations

from core.settings import Settings
from tests.e2e.conftest import run_browser
from tests.integration.aws.lambda_gateway import lambda_gateway


def test_every_audit_of_graphql_http_passes_through_the_lambda_handler(settings: Settings) -> None:
    # GIVEN http_handler behind an HTTP API (payload 2.0 events, Mangum, DynamoDB on moto)
    with lambda_gateway(settings) as (url, _):
        lines: list[str] = []
        # WHEN graphql-http's audit suite runs against its /graphql
        result = run_browser("graphql_http_audit.mjs", [f"{url}/graphql"], lines.append)
    # THEN every audit, MUST and SHOULD alike, is met, as on the local server
    assert result["failures"] == [], "\n".join(lines)
    assert result["total"] >= 50 and sum(line.startswith("ok ") for line in lines) == result["total"]

"""`submit` refuses numbers outside the server's limits itself: a usage error, never a traceback."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from server.cli.main import app

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-cost-usd", "inf"),
        ("--max-cost-usd", "nan"),
        ("--max-cost-usd", "1e308"),
        ("--max-cost-usd", "-5"),
        ("--max-turns", "99999999999999999999"),
        ("--max-turns", "501"),
        ("--max-turns", "0"),
    ],
)
def test_an_out_of_range_budget_is_a_usage_error(option: str, value: str) -> None:
    # GIVEN a server address nothing listens on (nothing must be sent anyway)
    url = f"http://127.0.0.1:{_closed_port()}/graphql"
    # WHEN submit gets a budget value the server would refuse (or JSON cannot carry)
    result = runner.invoke(app, ["submit", "Add hints", "acme/widgets", option, value, "--url", url])
    # THEN it is a usage error naming the option: exit 2, no traceback, no attempt to reach the server
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "Traceback" not in result.output and "cannot reach" not in result.output
    assert not isinstance(result.exception, ValueError)

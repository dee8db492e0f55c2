"""The GitHub function's Lambda handler (`server.aws.github_lambda.github_handler`), a thin call into its neighbours.

A module of its own, not one more handler of server.lambdas: the other functions may not load
PyGithub (an import contract), and this one ships in a bundle that has it. Importing this module
creates no client; the handler is built on the first invocation and kept while the Lambda is warm.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from server.aws.handlers import Handler


@cache
def _github() -> Handler:
    from server.aws.clients import aws_client, dynamo_store, required
    from server.aws.deployment_secret import aws_settings
    from server.aws.github_function import github_function
    from server.runtime.worker_config import github_access
    from store.dynamo_pacer import DynamoPacer
    from worker.github.pull_status import github_pull_requests

    settings = aws_settings()
    (table,) = required(settings, "table")
    host = github_pull_requests(github_access(settings), DynamoPacer(aws_client("dynamodb"), table))
    return github_function(dynamo_store(settings), host)


def github_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A PullRequestHost call from another function (its answer), or an EventBridge schedule (a refresh)."""
    return _github()(event, context)


def reset() -> None:
    """Forget the built handler, so the next invocation reads the environment and the secret afresh."""
    _github.cache_clear()

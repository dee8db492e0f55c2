"""The Lambda handlers behind the emulator's API Gateway on a port of their own, over moto in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

from core.settings import Settings
from server.aws.emulator.gateway import ApiGateway, LambdaFunction
from server.aws.handlers import LambdaHandlers, lambda_handlers
from tests.integration.aws.conftest import BUCKET, TABLE, aws_client, make_batch_resources, make_runtime
from tests.integration.cli.live_server import LiveServer


@contextmanager
def lambda_gateway(settings: Settings) -> Iterator[tuple[str, LambdaHandlers]]:
    """(base URL, handlers): HTTP and WebSocket APIs on one port, their `@connections` on the same."""
    # The port first (the handlers post to it), the app once the handlers exist.
    server = LiveServer(app=None)
    url = f"http://127.0.0.1:{server.port}"
    aws = settings.model_copy(
        update={
            "backend": "aws",
            "table": TABLE,
            "bucket": BUCKET,
            "job_queue": "cody-batch",
            "job_definition": "cody-batch-worker",
            "ws_endpoint": url,
        }
    )
    with mock_aws(config={"batch": {"use_docker": False}}):
        make_batch_resources(aws_client("batch"))
        runtime = make_runtime(aws, connections_url=url)
        handlers = lambda_handlers(runtime)
        gateway = ApiGateway(LambdaFunction("http", handlers.http), LambdaFunction("websocket", handlers.websocket))
        server.app = gateway.app()
        with server:
            yield url, handlers

"""The Lambda handlers behind the emulator's API Gateway on a free port, over moto in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from moto import mock_aws

from core.settings import Settings
from server.aws.emulator.gateway import ApiGateway, LambdaFunction
from server.aws.handlers import LambdaHandlers, lambda_handlers
from tests.integration.aws.conftest import BUCKET, TABLE, aws_client, make_batch_resources, make_runtime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def lambda_gateway(settings: Settings) -> Iterator[tuple[str, LambdaHandlers]]:
    """(base URL, handlers): HTTP and WebSocket APIs on one port, their `@connections` on the same."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
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
        api = ApiGateway(LambdaFunction("http", handlers.http), LambdaFunction("websocket", handlers.websocket))
        server = uvicorn.Server(uvicorn.Config(api.app(), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            for _ in range(400):
                if server.started:
                    break
                time.sleep(0.05)
            yield url, handlers
        finally:
            server.should_exit = True
            thread.join(timeout=10)

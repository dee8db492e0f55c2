"""moto server as the AWS endpoint: started in this process, or the one AWS_ENDPOINT_URL names."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "emulator",
    "AWS_SECRET_ACCESS_KEY": "emulator",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# moto's Batch would start Docker containers; the emulator runs each child as a local process.
MOTO_CONFIG = {"batch": {"use_docker": False}}


def use_dummy_credentials(environ: MutableMapping[str, str]) -> None:
    """Set emulator credentials and region where none are set, so no AWS account is needed."""
    for name, value in DUMMY_CREDENTIALS.items():
        environ.setdefault(name, value)


class _OneAtATime:
    """WSGI middleware: moto's backends are not thread-safe (a DynamoDB transaction deep-copies
    the tables to roll back, while another request changes them), so requests run in turn."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


def _serialized_moto_server(host: str) -> Any:
    """moto's threaded server, answering one request at a time."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class SerializedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerializedMotoServer(ip_address=host, port=0, verbose=False)


@dataclass
class MotoEndpoint:
    """An AWS endpoint URL, and the moto server behind it when this process started one."""

    url: str
    server: Any = None

    def stop(self) -> None:
        """Stop the moto server this process started (an external endpoint is left alone)."""
        if self.server is not None:
            self.server.stop()
            self.server = None


def start_endpoint(url: str | None = None, host: str = "127.0.0.1") -> MotoEndpoint:
    """Use `url` (an already running moto server), or start one on a free port; configure it."""
    server = None
    if not url:
        # One access-log line per AWS call would drown the emulator's own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = _serialized_moto_server(host)
        server.start()
        bound_host, port = server.get_host_and_port()
        url = f"http://{bound_host}:{port}"
    request = urllib.request.Request(
        f"{url}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):
        pass
    return MotoEndpoint(url=url, server=server)


def point_environment_at(endpoint: MotoEndpoint, environ: MutableMapping[str, str] = os.environ) -> None:
    """Make every boto3 client of this process (and its children) use the endpoint."""
    use_dummy_credentials(environ)
    environ["AWS_ENDPOINT_URL"] = endpoint.url

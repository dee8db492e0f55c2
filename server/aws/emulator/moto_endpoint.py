"""moto server as the AWS endpoint: started in this process, or the one AWS_ENDPOINT_URL names."""

from __future__ import annotations

import json
import os
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
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
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

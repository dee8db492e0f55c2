"""Whether the address a server is to bind is free, asked before the server starts anything."""

from __future__ import annotations

import errno
import socket

from core.errors import CodyBatchError


class PortInUse(CodyBatchError):
    """Another process listens on the address this server is to bind."""


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortInUse, saying what to do, when `host:port` cannot be bound because it is taken.

    uvicorn finds out only once the server has started its workers and printed its banner, and
    then says just "address already in use"; the usual cause is the other server of this project
    (`make run` beside `make run-aws`) still running.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server that just stopped is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return  # anything else (an address not on this machine) uvicorn reports as it is
            raise PortInUse(
                f"port {port} on {host} is in use (is another Cody Batch server, `make run` or "
                "`make run-aws`, still running?); stop it, or pick another port with --port or CODY_BATCH_PORT"
            ) from None

"""`cody-batch aws bootstrap` and `cody-batch aws emulate`: the AWS backend on an emulator."""

from __future__ import annotations

import logging
import os
from typing import Any

from rich.console import Console

from core.errors import ConfigurationError
from core.settings import Settings
from server.aws.provision import Provisioned
from server.cli.listen_address import ensure_port_free
from server.cli.serve import banner, base_url, start_demo
from server.demo.samples import ensure_sample_repository


def bootstrap_emulator(settings: Settings) -> Provisioned:
    """Create the stack's resources on the emulator AWS_ENDPOINT_URL names (dummy credentials if none), the
    secret holding the shell's keys and tokens."""
    from server.aws.emulator.emulate import emulator_client
    from server.aws.emulator.moto_endpoint import use_dummy_credentials
    from server.aws.provision import provision

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise ConfigurationError(
            "aws bootstrap creates resources on an emulator: set AWS_ENDPOINT_URL (e.g. moto server);"
            " on AWS the CDK stack creates them"
        )
    use_dummy_credentials(os.environ)
    # The shell's keys go into the emulated secret, where the worker definition's `secrets` name them.
    return provision(settings, emulator_client(endpoint), endpoint, secrets=os.environ)


def run_emulator(settings: Settings, console: Console) -> None:
    """Serve the AWS code path on one machine until interrupted."""
    import uvicorn
    from starlette.middleware import Middleware

    from server.aws.emulator.emulate import NOTICE, build_emulator
    from server.web.allowed_hosts import AllowedHosts, allowed_host_names
    from server.web.app import SPA_DIR, SinglePageApp

    # The stand-ins say what they do (Batch children started, stream records dropped).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("cody_batch.emulator").setLevel(logging.INFO)
    ensure_port_free(settings.host, settings.port)  # before moto, the Batch children or the banner start
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sample = ensure_sample_repository(settings)
    if settings.demo:
        start_demo(settings)  # before the emulator: the workers inherit its endpoint
    spa: Any = SinglePageApp(directory=SPA_DIR, html=True) if (SPA_DIR / "index.html").is_file() else None
    emulator = build_emulator(settings, base_url(settings), spa)
    lines = banner(settings, str(sample))
    lines[0] = f"{lines[0]} — {NOTICE}"
    for line in [*lines, *emulator.describe()]:
        console.print(line, markup=False, highlight=False)
    app = emulator.gateway.app()
    # As the local server: a request naming another host (DNS rebinding) reaches nothing.
    app.user_middleware.insert(0, Middleware(AllowedHosts, names=allowed_host_names(settings)))
    emulator.start()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    finally:
        emulator.stop()

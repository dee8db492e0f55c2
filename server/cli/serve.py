"""`cody-batch serve`: prepare the data dir and the sample, print a banner, run uvicorn."""

from __future__ import annotations

import signal
from types import FrameType

from rich.console import Console

from core.errors import ConfigurationError
from core.settings import Settings
from server.cli.listen_address import ensure_port_free
from server.cli.render import DEMO_NOTICE
from server.demo.samples import ensure_sample_repository
from server.web.allowed_hosts import allowed_host_names


def start_demo(settings: Settings) -> str:
    """Start the recorded-session model endpoint the workers will call; its base URL."""
    from server.demo.endpoint import start_demo_endpoint

    return start_demo_endpoint(settings)


def base_url(settings: Settings) -> str:
    """The server's address as a browser on this machine reaches it."""
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def banner(settings: Settings, sample: str) -> list[str]:
    """What `serve` says before it starts: where to go, what is allowed, which model."""
    url = base_url(settings)
    if settings.demo:
        model = DEMO_NOTICE
    elif settings.anthropic_api_key is None:
        model = "model: none (set ANTHROPIC_API_KEY, or run with --demo); runs will fail"
    else:
        model = f"model: Claude ({settings.model} by default)"
    hosts = ", ".join(sorted(allowed_host_names(settings)))
    return [
        f"Cody Batch on {url}",
        f"  UI:        {url}/",
        f"  GraphiQL:  {url}/graphql",
        f"  allowed repositories: {', '.join(settings.allowlist)}",
        f"  host names served:    {hosts} (CODY_BATCH_ALLOWED_HOSTS adds more)",
        f"  sample repository:    {sample}",
        f"  {model}",
    ]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_server(settings: Settings, console: Console) -> None:
    """Serve the API and UI until interrupted."""
    import uvicorn

    from server.runtime.bootstrap import bootstrap
    from server.runtime.hardening import make_undumpable
    from server.web.app import create_app

    if settings.backend == "aws":
        # Its container would have no live feed and its Batch jobs no one to run them here.
        raise ConfigurationError(
            "serve runs the local backend; CODY_BATCH_BACKEND=aws is the Lambda functions' and Batch workers':"
            " try that code path on this machine with `cody-batch aws emulate` (or `make run-aws`)"
        )
    make_undumpable()  # the server (and the forkserver it starts) hold the keys
    container = bootstrap(settings)  # first: it locks the data dir, so a second server changes nothing
    try:
        ensure_port_free(settings.host, settings.port)  # before any run is resumed or the banner shown
        sample = ensure_sample_repository(settings)
        if settings.demo:
            start_demo(settings)  # settings are shared with the container: its workers see the endpoint
        for line in banner(settings, str(sample)):
            console.print(line, markup=False, highlight=False)
        # SIGTERM (a service manager's stop) ends the server like Ctrl-C: uvicorn shuts down, then
        # raises the signal it caught again, which without this handler would end the process before
        # the container closes, leaving the workers to die with the forkserver instead of stopping.
        signal.signal(signal.SIGTERM, _interrupt)
        container.start()  # returns once the worker forkserver is warm: the first job starts at once
        # A WebSocket message may be no larger than an HTTP request body (uvicorn's default is 16 MiB).
        uvicorn.run(
            create_app(container),
            host=settings.host,
            port=settings.port,
            log_level="info",
            ws_max_size=settings.max_body_bytes,
        )
    except KeyboardInterrupt:
        pass  # a stop the user asked for; its unfinished runs are resumed at the next start
    finally:
        container.close()

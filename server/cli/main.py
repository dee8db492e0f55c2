"""The `cody-batch` command line: serve, submit, jobs, show, prs, smoke, worker, aws, export-schema."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import typer

from core.enums import JobKind, JobStatus, OutputMode, Strategy
from core.limits import MAX_COST_LIMIT_USD, MAX_TURNS_LIMIT
from server.cli import queries as q

# Each command imports what it uses when it runs: `--help` needs none of it, and pydantic, rich,
# httpx and websockets would make up most of a command's start-up time.
if TYPE_CHECKING:
    from rich.console import Console

    from core.settings import Settings
    from server.cli.graphql_client import GraphQLClient

app = typer.Typer(
    name="cody-batch",
    help="Apply one code change across many repositories with Claude.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
worker_app = typer.Typer(help="Worker commands (one repository of a job).", no_args_is_help=True)
app.add_typer(worker_app, name="worker")
aws_app = typer.Typer(help="The AWS backend on an emulator (moto server), no AWS account needed.", no_args_is_help=True)
app.add_typer(aws_app, name="aws")

EXIT_FAILED = 1
EXIT_INPUT = 2

UrlOption = typer.Option(None, "--url", help="GraphQL endpoint [env CODY_BATCH_URL].")
JsonOption = typer.Option(False, "--json", help="Machine-readable output.")


PIPED_WIDTH = 200  # piped output has no terminal width to honour; never cut ids or dates to 80


def _out() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    return console


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one error line to stderr; the Exit to raise."""
    _err().print(f"error: {message}", style="red", markup=False)
    return typer.Exit(code)


@contextmanager
def expected_errors() -> Iterator[None]:
    """Expected failures become one clear line and an exit code, never a traceback."""
    try:
        yield
    except Exception as err:
        from pydantic import ValidationError

        from core.errors import CodyBatchError
        from server.cli.graphql_client import GraphQLClientError

        if isinstance(err, ValidationError):
            first = err.errors()[0]
            name = ".".join(str(part) for part in first["loc"])
            raise fail(f"invalid setting {name}: {first['msg']}", EXIT_INPUT) from None
        if isinstance(err, GraphQLClientError | CodyBatchError):
            raise fail(str(err)) from None
        raise


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with the given fields replaced."""
    from core.settings import Settings

    settings = Settings()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def make_client(url: str | None) -> GraphQLClient:
    """A client for `--url` or CODY_BATCH_URL, with CODY_BATCH_API_TOKEN as bearer when set."""
    from server.cli.graphql_client import GraphQLClient

    settings = load_settings()
    token = settings.api_token.get_secret_value() if settings.api_token else None
    return GraphQLClient(url or settings.url, token=token)


def origin(url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def print_json(value: object) -> None:
    """JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


HostOption = typer.Option(None, "--host", help="Address to bind [env CODY_BATCH_HOST].")
PortOption = typer.Option(None, "--port", help="Port to bind [env CODY_BATCH_PORT].")
DemoOption = typer.Option(False, "--demo", help="Replay a recorded model session instead of Claude.")


def _run_server(run: Callable[[Settings, Console], None], host: str | None, port: int | None, demo: bool) -> None:
    with expected_errors():
        settings = load_settings(host=host, port=port, demo=True if demo else None)
        run(settings, _out())


@app.command()
def serve(host: str = HostOption, port: int = PortOption, demo: bool = DemoOption) -> None:
    """Run the local server: GraphQL API, UI and workers."""
    from server.cli.serve import run_server

    _run_server(run_server, host, port, demo)


@aws_app.command("bootstrap")
def aws_bootstrap(as_json: bool = JsonOption) -> None:
    """Create the table (with its stream), bucket and Batch queue on the emulator AWS_ENDPOINT_URL names."""
    from server.cli.aws import bootstrap_emulator

    with expected_errors():
        made = bootstrap_emulator(load_settings())
    environment = made.environment()
    if as_json:
        print_json(environment)
        return
    for name, value in environment.items():
        typer.echo(f"export {name}={value}")


@aws_app.command("emulate")
def aws_emulate(host: str = HostOption, port: int = PortOption, demo: bool = DemoOption) -> None:
    """Run the AWS code path on this machine: Lambda handlers, DynamoDB, Streams, S3 and Batch on moto server."""
    from server.cli.aws import run_emulator

    _run_server(run_emulator, host, port, demo)


@app.command()
def submit(
    prompt: str = typer.Argument(..., help="The instruction for Claude."),
    repositories: list[str] = typer.Argument(..., help="owner/name, a GitHub URL or a local path."),
    title: str = typer.Option(None, "--title"),
    kind: JobKind = typer.Option(None, "--kind", case_sensitive=False),
    output: OutputMode = typer.Option(None, "--output", case_sensitive=False),
    strategy: Strategy = typer.Option(None, "--strategy", case_sensitive=False),
    model: str = typer.Option(None, "--model"),
    check_command: str = typer.Option(None, "--check-command", help="Run before and after the change."),
    # The server's limits, so an out-of-range value (inf, nan, 10**20) is a usage error here.
    max_turns: int = typer.Option(None, "--max-turns", min=1, max=MAX_TURNS_LIMIT),
    max_cost_usd: float = typer.Option(None, "--max-cost-usd", min=0.0, max=MAX_COST_LIMIT_USD),
    wait: bool = typer.Option(False, "--wait", help="Follow the job live; exit 0 only if it succeeds."),
    as_json: bool = JsonOption,
    url: str = UrlOption,
) -> None:
    """Create a job; with --wait, follow it until it finishes."""
    from server.cli.job_input import build_job_input
    from server.cli.render import runs_table

    with expected_errors():
        client = make_client(url)
        job_input = build_job_input(
            prompt, repositories, title, kind, output, strategy, model, check_command, max_turns, max_cost_usd
        )
        payload = client.execute(q.CREATE_JOB, {"input": job_input})["createJob"]
    if payload.get("__typename") == "InputError":
        if as_json:
            print_json(payload)
        where = f" (field {payload['field']})" if payload.get("field") else ""
        raise fail(f"{payload['message']}{where}", EXIT_INPUT)
    job = payload
    if not as_json:
        _say_if_demo(client)
    if not wait:
        if as_json:
            print_json(job)
        else:
            _out().print(runs_table(job))
            _out().print(f"follow it with: cody-batch show {job['id']}", markup=False)
        return
    final = _wait(client, job, as_json)
    if as_json:
        print_json(final)
    else:
        _out().print(
            f"job {final['id']} {final['status']}; details: cody-batch show {final['id']} --diff", markup=False
        )
    if final["status"] != "SUCCEEDED":
        raise typer.Exit(EXIT_FAILED)


def _say_if_demo(client: GraphQLClient) -> None:
    """A demo server's model is a recording: say so where the user looks."""
    from server.cli.serve import DEMO_NOTICE

    with expected_errors():
        demo = client.execute(q.SERVER_DEMO)["settings"]["demo"]
    if demo:
        _err().print(f"note: this server runs in demo mode; {DEMO_NOTICE}", style="yellow", markup=False)


def _wait(client: GraphQLClient, job: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """Follow the job to its end, showing progress unless `quiet`."""
    import asyncio

    from rich.live import Live

    from server.cli.follow import follow_job
    from server.cli.render import ProgressLines, runs_table

    out = _out()
    notes = _err()

    def on_retry(problem: str) -> None:
        notes.print(f"{problem}; reconnecting…", style="yellow", markup=False)

    def follow(on_update: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        with expected_errors():
            return asyncio.run(follow_job(client, job, on_update, on_retry=on_retry))

    try:
        if quiet:
            return follow(lambda _: None)
        if out.is_terminal:
            with Live(runs_table(job), console=out, refresh_per_second=8) as live:
                return follow(lambda latest: live.update(runs_table(latest)))
        lines = ProgressLines(out)
        lines(job)
        final = follow(lines)
        out.print(runs_table(final))
        return final
    except KeyboardInterrupt:
        raise fail(f"stopped following; the job keeps running: cody-batch show {job['id']}", 130) from None


@app.command("jobs")
def list_jobs(
    status: JobStatus = typer.Option(None, "--status", case_sensitive=False),
    first: int = typer.Option(20, "--first", min=1, max=100),
    as_json: bool = JsonOption,
    url: str = UrlOption,
) -> None:
    """Recent jobs, newest first."""
    from server.cli.render import jobs_table

    with expected_errors():
        variables = {"first": first, "status": status.value if status else None}
        page = make_client(url).execute(q.JOBS, variables)["jobs"]
    nodes = [edge["node"] for edge in page["edges"]]
    if as_json:
        print_json(nodes)
    elif not nodes:
        _out().print("no jobs yet; create one with: cody-batch submit PROMPT REPO…", markup=False)
    else:
        _out().print(jobs_table(nodes))


@app.command()
def show(
    job_id: str = typer.Argument(..., help="The job's id."),
    as_json: bool = JsonOption,
    diff: bool = typer.Option(False, "--diff", help="Also print each repository's patch."),
    url: str = UrlOption,
) -> None:
    """A job in detail: its runs with status, error, summary, patch and pull request."""
    from server.cli.render import print_job_detail

    with expected_errors():
        client = make_client(url)
        job = client.execute(q.JOB, {"id": job_id})["job"]
        if job is None:
            raise fail(f"no job with id {job_id}")
        diffs = _diffs(client, job_id) if diff else {}
    if as_json:
        for run in job["repositories"]:
            if run["index"] in diffs and run.get("patch"):
                run["patch"]["diff"] = diffs[run["index"]]
        print_json(job)
        return
    out = _out()
    print_job_detail(out, job, origin=origin(client.url))
    for run in job["repositories"]:
        if run["index"] in diffs:
            out.print()
            out.print(f"# {run['location']}", style="bold", markup=False)
            out.file.write(diffs[run["index"]])
            out.file.flush()


def _diffs(client: GraphQLClient, job_id: str) -> dict[int, str]:
    job = client.execute(q.JOB_WITH_DIFFS, {"id": job_id})["job"] or {"repositories": []}
    return {run["index"]: run["patch"]["diff"] for run in job["repositories"] if run.get("patch")}


@app.command("prs")
def pull_requests(
    job_id: str = typer.Argument(..., help="The job's id."),
    merge: bool = typer.Option(False, "--merge", help="Merge every open pull request (branch protection applies)."),
    close: bool = typer.Option(False, "--close", help="Close every open or draft pull request."),
    publish: bool = typer.Option(False, "--publish", help="Mark every draft ready for review."),
    delete_branch: bool = typer.Option(False, "--delete-branch", help="Delete the branches of closed or merged ones."),
    comment: str = typer.Option(None, "--comment", help="Comment TEXT on every pull request."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what the action would do; change nothing."),
    refresh: bool = typer.Option(False, "--refresh", help="Read the pull requests from GitHub first."),
    as_json: bool = JsonOption,
    url: str = UrlOption,
) -> None:
    """A job's pull requests (state, checks, review), or one action on all of them with a result each."""
    from server.cli import pull_requests as pr_cli

    chosen = [
        name
        for name, on in [
            ("MERGE", merge),
            ("CLOSE", close),
            ("PUBLISH", publish),
            ("DELETE_BRANCH", delete_branch),
            ("COMMENT", comment is not None),
        ]
        if on
    ]
    if len(chosen) > 1:
        raise fail("choose one action: --merge, --close, --publish, --delete-branch or --comment", EXIT_INPUT)
    with expected_errors():
        client = make_client(url)
        if chosen:
            variables = {"id": job_id, "action": chosen[0], "comment": comment, "dry": dry_run}
            results = client.execute(pr_cli.ACTION, variables)["pullRequestAction"]
        else:
            if refresh:
                client.execute(pr_cli.REFRESH, {"id": job_id})
            job = client.execute(pr_cli.JOB_PULL_REQUESTS, {"id": job_id})["job"]
            if job is None:
                raise fail(f"no job with id {job_id}")
    if not chosen:
        if as_json:
            print_json(job)
            return
        _out().print(pr_cli.tally_line(job), markup=False)
        _out().print(pr_cli.pull_requests_table(job))
        return
    if as_json:
        print_json(results)
    else:
        _out().print(pr_cli.results_table(results))
    if any(r["outcome"] == "FAILED" for r in results):
        raise typer.Exit(EXIT_FAILED)


@worker_app.command("run")
def worker_run(
    job_id: str = typer.Argument(..., help="The job's id."),
    repo: int = typer.Option(
        None,
        "--repo",
        min=0,
        help="0-based repository index (default on AWS Batch: from AWS_BATCH_JOB_ARRAY_INDEX).",
    ),
    attempt: int = typer.Option(
        None, "--attempt", min=1, help="Run only this attempt: nothing happens if the run has moved past it."
    ),
) -> None:
    """Run one repository of a job here, on the store directly; SIGTERM is recorded on the run."""
    from server.aws.batch_index import NoRunIndex, batch_child_run

    if repo is None:
        try:
            repo, listed_attempt = batch_child_run(os.environ)
        except NoRunIndex as err:
            raise fail(str(err), EXIT_INPUT) from None
        attempt = listed_attempt if attempt is None else attempt
    from server.runtime.worker_command import run_worker_until_terminated

    with expected_errors():
        code = run_worker_until_terminated(load_settings(), job_id, repo, attempt)
    if code:
        raise typer.Exit(code)


@app.command()
def smoke(
    url: str = typer.Option(None, "--url", help="GraphQL over HTTP, e.g. the stack's GraphqlUrl [env CODY_BATCH_URL]."),
    ws: str = typer.Option(None, "--ws", help="WebSocket endpoint, e.g. the stack's WebsocketUrl [default: --url]."),
    job: bool = typer.Option(False, "--job", help="Also run a one-repository job and wait for it to succeed."),
    repository: str = typer.Option(None, "--repository", help="The job's repository [default: the server's sample]."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, max=600.0, help="Seconds each check may take."),
    job_timeout: float = typer.Option(1800.0, "--job-timeout", min=1.0, max=86400.0, help="Seconds the job may take."),
) -> None:
    """Check a running server: a query, a subscription round trip and, with --job, a whole job."""
    import asyncio

    from server.cli.smoke import Smoke, SmokeFailure, Step

    client = make_client(url)
    client.ws_url = ws
    client.timeout = timeout
    out = _out()

    def report(step: Step) -> None:
        out.print(f"ok  {step.name}: {step.detail}", markup=False)

    try:
        asyncio.run(Smoke(client, job=job, repository=repository, job_timeout=job_timeout).run(report))
    except SmokeFailure as failure:
        raise fail(f"smoke check failed at {failure}") from None
    out.print("smoke check passed", markup=False)


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from schema.export import print_sdl

    sys.stdout.write(print_sdl())


def main() -> None:
    """Entry point of the `cody-batch` script."""
    app()

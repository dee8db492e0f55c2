"""The `cody-batch` command line: serve, submit, jobs, show, continue, prs, smoke, worker, aws, export-schema."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from core.api_endpoint import api_endpoint
from core.enums import JobKind, JobStatus, OutputMode, Strategy
from core.limits import MAX_COST_LIMIT_USD, MAX_TURNS_LIMIT
from server.cli import queries as q
from server.cli.options import FiniteFloatRange

# Each command imports what it uses when it runs: `--help` needs none of it, and pydantic, rich,
# httpx and websockets would make up most of a command's start-up time. The commands are plain
# click: typer converts every parameter through pydantic, which alone took longer to load than
# the 0.3 s a command may take to start (see docs/DESIGN.md).
if TYPE_CHECKING:
    from rich.console import Console

    from core.settings import Settings
    from server.cli.graphql_client import GraphQLClient

CONTEXT = {"help_option_names": ["--help"]}


@click.group(name="cody-batch", no_args_is_help=True, context_settings=CONTEXT)
def app() -> None:
    """Apply one code change across many repositories with Claude."""


@app.group("worker", no_args_is_help=True)
def worker_app() -> None:
    """Worker commands (one repository of a job)."""


@app.group("aws", no_args_is_help=True)
def aws_app() -> None:
    """The AWS backend: run it on an emulator (moto server, no AWS account), or fill a deployed stack's secret."""


EXIT_FAILED = 1
EXIT_INPUT = 2

url_option = click.option("--url", default=None, help="GraphQL endpoint [env CODY_BATCH_URL].")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


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


def fail(message: str, code: int = EXIT_FAILED) -> click.exceptions.Exit:
    """Print one error line to stderr; the Exit to raise."""
    # soft_wrap: one line however long, so a command or path in it is never broken (a terminal wraps it).
    _err().print(f"error: {message}", style="red", markup=False, soft_wrap=True)
    return click.exceptions.Exit(code)


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

    # Only these two settings: reading them all would load pydantic-settings for nothing.
    endpoint = api_endpoint(os.environ)
    return GraphQLClient(url or endpoint.url, token=endpoint.token)


def origin(url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def print_json(value: object) -> None:
    """JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def server_options(command: Callable[..., None]) -> Callable[..., None]:
    """--host, --port and --demo, shared by the commands that run a server."""
    command = click.option("--demo", is_flag=True, help="Replay a recorded model session instead of Claude.")(command)
    command = click.option("--port", type=int, default=None, help="Port to bind [env CODY_BATCH_PORT].")(command)
    return click.option("--host", default=None, help="Address to bind [env CODY_BATCH_HOST].")(command)


def _run_server(run: Callable[[Settings, Console], None], host: str | None, port: int | None, demo: bool) -> None:
    with expected_errors():
        settings = load_settings(host=host, port=port, demo=True if demo else None)
        run(settings, _out())


@app.command()
@server_options
def serve(host: str | None, port: int | None, demo: bool) -> None:
    """Run the local server: GraphQL API, UI and workers."""
    from server.cli.serve import run_server

    _run_server(run_server, host, port, demo)


@aws_app.command("bootstrap")
@json_option
def aws_bootstrap(as_json: bool) -> None:
    """Create the table (with its stream), bucket and Batch queue on the emulator AWS_ENDPOINT_URL names."""
    from server.aws.emulator.moto_endpoint import DUMMY_CREDENTIALS
    from server.cli.aws import bootstrap_emulator

    # Where the resources are, and the stand-in credentials bootstrap used for want of the shell's:
    # without them a process given only these settings could not reach the emulator.
    reach = {name: os.environ[name] for name in ["AWS_ENDPOINT_URL"] if name in os.environ}
    reach |= {name: value for name, value in DUMMY_CREDENTIALS.items() if name not in os.environ}
    with expected_errors():
        made = bootstrap_emulator(load_settings())
    environment = {**reach, **made.environment()}
    if as_json:
        print_json(environment)
        return
    for name, value in environment.items():
        click.echo(f"export {name}={value}")


@aws_app.command("put-secret")
@click.option("--secret-id", required=True, help="The stack's SecretArn output (or the secret's name).")
def aws_put_secret(secret_id: str) -> None:
    """Put this shell's ANTHROPIC_API_KEY, GITHUB_TOKEN, CODY_BATCH_API_TOKEN, CODY_BATCH_GITHUB_WEBHOOK_SECRET
    (those set) in a deployed stack's secret, keeping its other keys; values never go on a command line."""
    from server.aws.deployment_secret import put_secret_values

    parts = secret_id.split(":")
    if len(parts) > 3 and parts[0] == "arn" and not os.environ.get("AWS_DEFAULT_REGION"):
        os.environ["AWS_DEFAULT_REGION"] = parts[3]  # the secret's own region, when the shell names none
    with expected_errors():
        written = put_secret_values(secret_id, os.environ)
    click.echo(f"put {', '.join(written)} in {secret_id}")


@aws_app.command("emulate")
@server_options
def aws_emulate(host: str | None, port: int | None, demo: bool) -> None:
    """Run the AWS code path on this machine: Lambda handlers, DynamoDB, Streams, S3 and Batch on moto server."""
    from server.cli.aws import run_emulator

    _run_server(run_emulator, host, port, demo)


@app.command()
@click.argument("prompt")
@click.argument("repositories", nargs=-1, required=True)
@click.option("--title", default=None, help="The job's title [default: from the instruction].")
@click.option(
    "--kind",
    type=click.Choice(JobKind, case_sensitive=False),
    default=None,
    help="Change the code, or only analyze it.",
)
@click.option(
    "--output",
    type=click.Choice(OutputMode, case_sensitive=False),
    default=None,
    help="A patch per repository, or a (draft) pull request on GitHub.",
)
@click.option(
    "--strategy", type=click.Choice(Strategy, case_sensitive=False), default=None, help="The kind of change it is."
)
@click.option("--model", default=None, help="Claude model [default: the server's CODY_BATCH_MODEL].")
@click.option("--check-command", default=None, help="Run before and after the change.")
# The server's limits, so an out-of-range value (inf, nan, 10**20) is a usage error here.
@click.option(
    "--max-turns",
    type=click.IntRange(1, MAX_TURNS_LIMIT),
    default=None,
    help="Turns per run [default: the server's CODY_BATCH_MAX_TURNS].",
)
@click.option(
    "--max-cost-usd",
    type=FiniteFloatRange(0.0, MAX_COST_LIMIT_USD),
    default=None,
    help="Cost limit per run in USD [default: the server's CODY_BATCH_MAX_COST_USD].",
)
@click.option("--wait", is_flag=True, help="Follow the job live; exit 0 only if it succeeds.")
@json_option
@url_option
def submit(
    prompt: str, repositories: tuple[str, ...], wait: bool, as_json: bool, url: str | None, **job_options: Any
) -> None:
    """Create a job; with --wait, follow it until it finishes.

    PROMPT is the instruction for Claude; each of REPOSITORIES is owner/name, a GitHub URL or a local path."""
    from server.cli.job_input import build_job_input
    from server.cli.render import runs_table

    with expected_errors():
        client = make_client(url)
        # The options go on as they are named: title, kind, output, strategy, model, the budget.
        job_input = build_job_input(prompt, list(repositories), **job_options)
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
        raise click.exceptions.Exit(EXIT_FAILED)


# The API names a limit by its input field; a person at the command line knows it by its option.
CONTINUE_FLAGS = {
    "budget.maxTurns": "--max-turns",
    "budget.maxTokens": "--max-tokens",
    "budget.maxCostUsd": "--max-cost-usd",
    "maxJobCostUsd": "--max-job-cost-usd",
}


@app.command("continue")
@click.argument("job_id")
@click.argument("index", type=click.IntRange(0))
@click.option("--max-turns", type=click.IntRange(1, MAX_TURNS_LIMIT), default=None, help="The run's new turn limit.")
@click.option("--max-tokens", type=click.IntRange(1), default=None, help="The run's new token limit.")
@click.option(
    "--max-cost-usd", type=FiniteFloatRange(0.0, MAX_COST_LIMIT_USD), default=None, help="The run's new cost limit."
)
@click.option(
    "--max-job-cost-usd",
    type=FiniteFloatRange(0.0, MAX_COST_LIMIT_USD),
    default=None,
    help="The job's new cost limit, all its runs together (needed when that limit stopped the run).",
)
@click.option("--wait", is_flag=True, help="Follow the job live; exit 0 only if it succeeds.")
@json_option
@url_option
def continue_run(
    job_id: str,
    index: int,
    max_turns: int | None,
    max_tokens: int | None,
    max_cost_usd: float | None,
    max_job_cost_usd: float | None,
    wait: bool,
    as_json: bool,
    url: str | None,
) -> None:
    """Continue repository INDEX of JOB_ID, stopped by its turn, token, cost or time limit or its job's cost limit,
    with the limits given, or failed INTERRUPTED or WORKER_DIED once the server stopped resuming it (no limit
    needed).

    It goes on from its stored conversation and workspace as the same attempt; `cody-batch show` lists the indexes."""
    from server.cli.render import runs_table

    # Limits not given keep the run's: a run stopped by its time limit goes on with the same ones.
    budget = {"maxTurns": max_turns, "maxTokens": max_tokens, "maxCostUsd": max_cost_usd}
    with expected_errors():
        client = make_client(url)
        job = client.execute(q.JOB, {"id": job_id})["job"]
        run = next((r for r in (job or {}).get("repositories", []) if r["index"] == index), None)
        if job is None or run is None:
            raise fail(f"no job with id {job_id}" if job is None else f"job {job_id} has no repository #{index}")
        variables = {"runId": run["id"], "budget": budget, "maxJobCostUsd": max_job_cost_usd}
        payload = client.execute(q.CONTINUE_RUN, variables)["continueRun"]
    if payload.get("__typename") == "InputError":
        if as_json:
            print_json(payload)
        flag = CONTINUE_FLAGS.get(payload.get("field") or "")
        raise fail(payload["message"] + (f" (give it with {flag})" if flag else ""), EXIT_INPUT)
    if wait:
        payload = _wait(client, payload, as_json)
    if as_json:
        print_json(payload)
    else:
        _out().print(runs_table(payload))
    if wait and payload["status"] != "SUCCEEDED":
        raise click.exceptions.Exit(EXIT_FAILED)


def _say_if_demo(client: GraphQLClient) -> None:
    """A demo server's model is a recording: say so where the user looks."""
    from server.cli.render import DEMO_NOTICE

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
@click.option("--status", type=click.Choice(JobStatus, case_sensitive=False), default=None)
@click.option("--first", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@url_option
def list_jobs(status: JobStatus | None, first: int, as_json: bool, url: str | None) -> None:
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
@click.argument("job_id")
@json_option
@click.option("--diff", is_flag=True, help="Also print each repository's patch.")
@url_option
def show(job_id: str, as_json: bool, diff: bool, url: str | None) -> None:
    """A job in detail (JOB_ID): its runs with status, error, summary, patch and pull request."""
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
@click.argument("job_id")
@click.option("--merge", is_flag=True, help="Merge every open pull request (branch protection applies).")
@click.option("--close", is_flag=True, help="Close every open or draft pull request.")
@click.option("--publish", is_flag=True, help="Mark every draft ready for review.")
@click.option("--delete-branch", is_flag=True, help="Delete the branches of closed or merged ones.")
@click.option("--comment", default=None, metavar="TEXT", help="Comment TEXT on every pull request.")
@click.option("--dry-run", is_flag=True, help="Say what the action would do; change nothing.")
@click.option("--refresh", is_flag=True, help="Read the pull requests from GitHub first.")
@json_option
@url_option
def pull_requests(
    job_id: str,
    merge: bool,
    close: bool,
    publish: bool,
    delete_branch: bool,
    comment: str | None,
    dry_run: bool,
    refresh: bool,
    as_json: bool,
    url: str | None,
) -> None:
    """A job's pull requests (JOB_ID): state, checks, review; or one action on all of them with a result each."""
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
    elif not results:
        _out().print(
            f"job {job_id} has no pull requests: nothing to {chosen[0].lower().replace('_', ' ')}", markup=False
        )
    else:
        _out().print(pr_cli.results_table(results))
    if any(r["outcome"] == "FAILED" for r in results):
        raise click.exceptions.Exit(EXIT_FAILED)


@worker_app.command("run")
@click.argument("job_id")
@click.option(
    "--repo",
    type=click.IntRange(min=0),
    default=None,
    help="0-based repository index (default on AWS Batch: from AWS_BATCH_JOB_ARRAY_INDEX).",
)
@click.option(
    "--attempt",
    type=click.IntRange(min=1),
    default=None,
    help="Run only this attempt: nothing happens if the run has moved past it.",
)
def worker_run(job_id: str, repo: int | None, attempt: int | None) -> None:
    """Run one repository of job JOB_ID here, on the store directly; SIGTERM is recorded on the run."""
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
        raise click.exceptions.Exit(code)


@app.command()
@click.option("--url", default=None, help="GraphQL over HTTP, e.g. the stack's GraphqlUrl [env CODY_BATCH_URL].")
@click.option("--ws", default=None, help="WebSocket endpoint, e.g. the stack's WebsocketUrl [default: --url].")
@click.option("--job", is_flag=True, help="Also run a one-repository job and wait for it to succeed.")
@click.option("--repository", default=None, help="The job's repository [default: the server's sample].")
@click.option(
    "--timeout", type=FiniteFloatRange(1.0, 600.0), default=30.0, show_default=True, help="Seconds each check may take."
)
@click.option(
    "--job-timeout",
    type=FiniteFloatRange(1.0, 86400.0),
    default=1800.0,
    show_default=True,
    help="Seconds the job may take.",
)
def smoke(
    url: str | None, ws: str | None, job: bool, repository: str | None, timeout: float, job_timeout: float
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

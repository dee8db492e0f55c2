"""Rich rendering of jobs and runs for the CLI (tables, detail, progress lines)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

JobData = dict[str, Any]

DEMO_NOTICE = "model: a recorded demo session, not Claude"

STATUS_STYLES = {
    "QUEUED": "dim",
    "PENDING": "dim",
    "RUNNING": "cyan",
    "CLONING": "cyan",
    "RUNNING_AGENT": "cyan",
    "VALIDATING": "cyan",
    "PUBLISHING": "cyan",
    "SUCCEEDED": "green",
    "NO_CHANGES": "yellow",
    "PARTIAL": "yellow",
    "FAILED": "red",
    "CANCELLED": "magenta",
}


def status_text(status: str) -> Text:
    """A status word in its colour."""
    return Text(status, style=STATUS_STYLES.get(status, ""))


def cost(usage: dict[str, Any] | None) -> str:
    """A usage's cost in dollars."""
    return f"${(usage or {}).get('costUsd', 0.0):.4f}"


def turns(run: dict[str, Any]) -> str:
    """The turns of the run's current attempt."""
    return str(run.get("turns") or 0)


def runs_table(job: JobData) -> Table:
    """One row per repository: status, step, turns and cost."""
    table = Table(title=f"{job['id']}  {escape(job['title'])}  ", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("repository", overflow="fold")
    table.add_column("status")
    table.add_column("step", overflow="fold")
    table.add_column("turns", justify="right")
    table.add_column("cost", justify="right")
    for run in job["repositories"]:
        table.add_row(
            str(run["index"]),
            run["location"],
            status_text(run["status"]),
            run.get("step") or "",
            turns(run),
            cost(run.get("usage")),
        )
    table.caption = Text.assemble("job ", status_text(job["status"]), f"  total {cost(job.get('usage'))}")
    return table


def jobs_table(nodes: list[JobData]) -> Table:
    """Recent jobs, newest first."""
    table = Table(expand=False, box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("id", no_wrap=True)
    # Title is the one column that gives way on a narrow terminal.
    table.add_column("status", no_wrap=True)
    table.add_column("title", min_width=12)
    table.add_column("repos", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    for job in nodes:
        table.add_row(
            job["id"],
            status_text(job["status"]),
            escape(job["title"]),
            str(len(job.get("repositories") or [])),
            cost(job.get("usage")),
            job["createdAt"][5:16].replace("T", " "),
        )
    return table


# The errors `cody-batch continue` can take a run past (the server's continueRun says the same).
CONTINUABLE = {
    "TURN_LIMIT": " --max-turns N",
    "BUDGET": " --max-cost-usd N (or --max-tokens N: its error says which limit stopped it)",
    "JOB_BUDGET": " --max-job-cost-usd N",  # the job's limit: the run's own would stop it again at once
    "TIMEOUT": "",
    "INTERRUPTED": "",  # failed once the server's own resumptions were used up: it goes on with its limits
    "WORKER_DIED": "",
}


def _run_detail(job_id: str, run: dict[str, Any], origin: str) -> Group:
    head = Text.assemble(
        (f"#{run['index']} ", "bold"),
        (run["location"], "bold"),
        "  ",
        status_text(run["status"]),
        f"  step {run.get('step') or '-'}  attempt {run['attempt']}",
        f"  turns {turns(run)}  cost {cost(run.get('usage'))}",
    )
    lines: list[Any] = [head]
    error = run.get("error")
    if error:
        lines.append(Text(f"  error [{error['kind']}]: {error['message']}", style="red"))
        if run["status"] == "FAILED" and error["kind"] in CONTINUABLE:
            option = CONTINUABLE[error["kind"]]
            lines.append(Text(f"  continue it with: cody-batch continue {job_id} {run['index']}{option}"))
    lines.extend(_resumption(resumption) for resumption in run.get("resumptions") or [])
    if run.get("commandIsolation"):
        lines.append(_command_isolation(run["commandIsolation"]))
    patch = run.get("patch")
    if patch:
        files = patch["filesChanged"]
        link = patch["downloadUrl"]
        if link.startswith("/"):
            link = origin + link
        lines.append(
            Text(
                f"  patch: {files} file{'s' if files != 1 else ''}, +{patch['additions']} -{patch['deletions']}  {link}"
            )
        )
    pull_request = run.get("pullRequest")
    if pull_request:
        draft = " (draft)" if pull_request.get("draft") else ""
        lines.append(Text(f"  pull request #{pull_request['number']}{draft}: {pull_request['url']}"))
    if run.get("summary"):
        lines.append(Text("  summary:", style="bold"))
        lines.extend(Text("    " + line) for line in run["summary"].splitlines())
    return Group(*lines)


def _resumption(resumption: dict[str, Any]) -> Text:
    """One time the attempt went on from its thread instead of starting over, as the run's history says it."""
    how = "continued" if resumption["reason"] == "CONTINUED" else "resumed"
    cause = f": {resumption['cause']}" if resumption.get("cause") else ""
    return Text(f"  {how} from turn {resumption['fromTurn']} at {resumption['at']}{cause}")


def _command_isolation(isolation: dict[str, Any]) -> Text:
    """How the run's commands ran: isolated, or a warning naming what they could reach and why."""
    missing = [name for name in ("filesystem", "network") if not isolation[name]]
    if not missing:
        return Text("  commands ran isolated (filesystem and network)")
    reason = f": {isolation['reason']}" if isolation.get("reason") else ""
    return Text(f"  commands ran without {' or '.join(missing)} isolation{reason}", style="yellow")


def print_job_detail(console: Console, job: JobData, origin: str = "") -> None:
    """The job's header, then each run: error, resumptions, command isolation, summary, patch, pull request.

    `origin` (scheme://host:port) makes the server's relative download links absolute.
    """
    console.print(Text.assemble((job["id"], "bold"), "  ", status_text(job["status"]), "  ", job["title"]))
    console.print(
        f"kind {job['kind']}  output {job['output']}  strategy {job['strategy']}  model {job['model']}",
        markup=False,
    )
    console.print(f"created {job['createdAt']}  updated {job['updatedAt']}  cost {cost(job.get('usage'))}")
    for run in job["repositories"]:
        console.print()
        console.print(_run_detail(job["id"], run, origin))


class ProgressLines:
    """Progress as plain lines, one per run change, for output that is not a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.seen: dict[str, tuple[str, str | None]] = {}

    def __call__(self, job: JobData) -> None:
        for run in job["repositories"]:
            state = (run["status"], run.get("step"))
            if self.seen.get(run["id"]) == state:
                continue
            self.seen[run["id"]] = state
            step = f" ({run['step']})" if run.get("step") else ""
            self.console.print(
                f"#{run['index']} {run['location']}: {run['status']}{step}", markup=False, highlight=False
            )

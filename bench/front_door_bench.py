"""Front-door benchmark: jobs through `cody-batch serve` as a user drives it.

Run: `python bench/front_door_bench.py`. Results go to docs/PERFORMANCE.md (section front-door-bench).

Each round starts `cody-batch serve` from its console script on a fresh data dir, its workers
talking to the fake Anthropic API (tests/fakes) over HTTP, and times from the `createJob` HTTP
call to the job's terminal frame on a graphql-ws subscription (the CLI's client):

- first job: the model-bound job below, sent as soon as the server answers /healthz;
- overhead: 5 repositories of 2,000 files with an instant model, against plain `git clone` of the 5 in turn;
- model-bound: 5 one-file repositories, the model taking 1 s per turn for 3 turns, against 3 s;
- time to first model request: from `createJob` returning to the last of the 5 runs' first requests, at the fake;
- per-turn overhead: from the model's answer (its request's arrival plus the model's delay) to the same run's
  next request, at the fake, the median over every turn of the model-bound job.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import command_line, publish  # noqa: E402
from bench.worker_bench import (  # noqa: E402
    FILES_PER_REPOSITORY,
    MODEL_SECONDS_PER_TURN,
    REPOSITORIES,
    TURNS,
    clone_one_after_another,
    make_repository,
    scripted_turn,
)
from server.cli import queries as q  # noqa: E402
from server.cli.follow import follow_job  # noqa: E402
from server.cli.graphql_client import GraphQLClient  # noqa: E402
from server.demo.anthropic_replay import RecordedRequest  # noqa: E402
from tests.fakes.anthropic_server import FakeAnthropic  # noqa: E402
from tests.integration.cli.live_server import free_port  # noqa: E402
from tests.security.serve_process import ServeProcess, start_serve  # noqa: E402

ROUNDS = int(os.environ.get("FRONT_DOOR_ROUNDS", "3"))
SCRIPT = Path(sys.executable).with_name("cody-batch")
MODEL_BOUND_GOAL = 1.10
FIRST_JOB_GOAL = 1.3
FIRST_REQUEST_GOAL = 0.15
OVERHEAD_GOAL = 1.0


@dataclass
class Timed:
    """One job through the front door."""

    seconds: float  # createJob call to the terminal frame
    first_request: float  # createJob returned to the last run's first model request
    turn_overhead: float  # median, over the turns, of a model answer to that run's next request


def one_file_repository(path: Path) -> Path:
    """A git repository holding app.py alone."""
    path.mkdir(parents=True)
    return make_repository(path, 0)


def serve(work: Path, fake: FakeAnthropic) -> ServeProcess:
    """`cody-batch serve`, from its console script, on a fresh data dir, once it answers /healthz."""
    data_dir = Path(tempfile.mkdtemp(dir=work, prefix="data-"))
    return start_serve(
        work,
        data_dir,
        free_port(),
        command=[str(SCRIPT), "serve"],
        CODY_BATCH_ALLOWED_REPOS=f"{work / 'repos'}/*",
        ANTHROPIC_API_KEY=fake.api_key,
        ANTHROPIC_BASE_URL=fake.url,
    )


def run_job(client: GraphQLClient, fake: FakeAnthropic, repos: list[Path], delay: float) -> Timed:
    """One job over `repos` (all must succeed), the model answering each turn after `delay` seconds."""
    fake.script([scripted_turn(delay)] * len(repos) * TURNS)
    seen = len(fake.requests)
    started = time.monotonic()
    payload = client.execute(q.CREATE_JOB, {"input": {"prompt": "Say hello.", "repositories": [str(r) for r in repos]}})
    created = time.monotonic()
    job: dict[str, Any] = payload["createJob"]
    final = asyncio.run(follow_job(client, job, lambda _: None))
    finished = time.monotonic()
    bad = [f"{run['location']}: {run['status']} {run['error']}" for run in final["repositories"]]
    if final["status"] != "SUCCEEDED":
        raise SystemExit(f"benchmark job failed: {bad}")
    requests = fake.requests[seen:]
    firsts = [r.at for r in requests if len(r.body["messages"]) == 1]
    return Timed(finished - started, max(firsts) - created, turn_overhead(requests, delay))


def turn_overhead(requests: list[RecordedRequest], delay: float) -> float:
    """Median time from the model's answer to the same run's next request (runs told apart by their system prompt)."""
    by_run: dict[str, list[float]] = {}
    for request in requests:
        by_run.setdefault(json.dumps(request.body["system"]), []).append(request.at)
    gaps = [
        later - earlier - delay
        for times in by_run.values()
        for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)
    ]
    return statistics.median(gaps)


def measure(work: Path, small: list[Path], large: list[Path]) -> dict[str, list[float]]:
    """Every figure of every round."""
    figures: dict[str, list[float]] = {
        name: []
        for name in ("first_job", "first_job_request", "clone", "overhead", "model_bound", "first_request", "per_turn")
    }
    with FakeAnthropic() as fake:
        for _ in range(ROUNDS):
            served = serve(work, fake)
            client = GraphQLClient(served.url)
            try:
                first = run_job(client, fake, small, MODEL_SECONDS_PER_TURN)
                figures["first_job"].append(first.seconds)
                figures["first_job_request"].append(first.first_request)
                with tempfile.TemporaryDirectory(dir=work) as scratch:
                    figures["clone"].append(clone_one_after_another(large, Path(scratch)))
                figures["overhead"].append(run_job(client, fake, large, 0.0).seconds)
                warm = run_job(client, fake, small, MODEL_SECONDS_PER_TURN)
                figures["model_bound"].append(warm.seconds)
                figures["first_request"].append(warm.first_request)
                figures["per_turn"].append(warm.turn_overhead)
            finally:
                served.stop()
    return figures


def report(figures: dict[str, list[float]], load_before: float) -> str:
    """The table for docs/PERFORMANCE.md."""
    m = {name: statistics.median(values) for name, values in figures.items()}
    model = MODEL_SECONDS_PER_TURN * TURNS
    load = os.getloadavg()[0]

    def row(what: str, seconds: float, baseline: str, ratio: str, goal: str) -> str:
        return f"| {what} | {seconds:.2f} s | {baseline} | **{ratio}** | {goal} |"

    lines = [
        f"`python bench/front_door_bench.py`: `cody-batch serve` started from its console script, the fake "
        f"Anthropic API over HTTP; each figure timed from the `createJob` HTTP call to the job's terminal frame "
        f"on a graphql-ws subscription; median of {ROUNDS} rounds, each on a freshly started server; "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start and {load:.1f} at the end.",
        "",
        "| measurement | through the front door | baseline | ratio | goal |",
        "|---|---|---|---|---|",
        row(
            f"model-bound: {REPOSITORIES} one-file repositories, model {MODEL_SECONDS_PER_TURN:g} s x {TURNS} turns",
            m["model_bound"],
            f"the model alone, {model:.2f} s",
            f"{m['model_bound'] / model:.3f}",
            f"<= {MODEL_BOUND_GOAL:.2f}",
        ),
        row(
            "first job: the same, sent as soon as `serve` answers",
            m["first_job"],
            f"the model alone, {model:.2f} s",
            f"{m['first_job'] / model:.3f}",
            f"<= {FIRST_JOB_GOAL:.2f}",
        ),
        row(
            f"overhead: {REPOSITORIES} x {FILES_PER_REPOSITORY:,}-file repositories, instant model",
            m["overhead"],
            f"`git clone` of the {REPOSITORIES} in turn, {m['clone']:.2f} s",
            f"{m['overhead'] / m['clone']:.3f}",
            f"<= {OVERHEAD_GOAL:.2f}",
        ),
        f"| first model request of the last of the {REPOSITORIES} runs, after `createJob` returned (warm server) "
        f"| {m['first_request']:.3f} s | | | <= {FIRST_REQUEST_GOAL} s |",
        f"| the same, first job | {m['first_job_request']:.3f} s | | | |",
        f"| per-turn overhead: the model's answer to the same run's next request (median of the turns) "
        f"| {m['per_turn']:.3f} s | | | no more than before (0.07 s) |",
    ]
    rounds = ", ".join(
        f"{name} {' / '.join(f'{v:.2f}' for v in values)}"
        for name, values in figures.items()
        if name in ("model_bound", "first_job", "first_request", "per_turn")
    )
    lines += ["", f"Every round (s): {rounds}."]
    return "\n".join(lines)


def main() -> None:
    """Measure, print and record the front-door figures."""
    arguments = command_line(__doc__)
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    with tempfile.TemporaryDirectory(prefix="front-door-bench-") as tmp:
        work = Path(tmp)
        small = [one_file_repository(work / "repos" / f"small{i}") for i in range(REPOSITORIES)]
        large = [make_repository(work / "repos" / f"large{i}", FILES_PER_REPOSITORY) for i in range(REPOSITORIES)]
        load_before = os.getloadavg()[0]
        body = report(measure(work, small, large), load_before)
    publish("front-door-bench", body, arguments)


if __name__ == "__main__":
    main()

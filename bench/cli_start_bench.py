"""Cold start of the command line: whole-process wall time of `cody-batch --help`, `submit` and `jobs`
against `python -c pass`, rounds alternating in the same run.

Run: `python bench/cli_start_bench.py`. Results go to docs/PERFORMANCE.md (section cli-start-bench).
`submit` and `jobs` talk to a stand-in GraphQL endpoint on this machine that answers at once, so
the figures are the command's own start-up and work, not a server's. Python may write bytecode
caches, as an installed package has them, and a first round, not counted, writes them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import command_line, publish  # noqa: E402
from tests.fakes.json_endpoint import JsonEndpoint  # noqa: E402

ROUNDS = 7
GOAL_SECONDS = 0.3
SCRIPT = Path(sys.executable).with_name("cody-batch")
JOB = {"id": "01JOB", "title": "t", "status": "QUEUED", "createdAt": "2026-01-01T00:00:00Z", "repositories": []}
ANSWERS = {
    "createJob": {"createJob": {"__typename": "Job", **JOB}},
    "jobs": {"jobs": {"edges": [{"node": {**JOB, "usage": {"costUsd": 0}}}], "pageInfo": {"hasNextPage": False}}},
    "settings": {"settings": {"demo": False}},
}


class Answer(JsonEndpoint):
    """Answers any GraphQL request at once with the data of the field it asks for."""

    def do_POST(self) -> None:
        query = self.read_json()["query"]
        self.reply_json({"data": next((value for field, value in ANSWERS.items() if field in query), {})})


@contextmanager
def endpoint() -> Iterator[str]:
    """A GraphQL URL on this machine answering every request at once."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()


def wall(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `command` to its exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Measure, print and record the start-up figures."""
    arguments = command_line(__doc__)
    load_before = os.getloadavg()[0]
    with endpoint() as url:
        env = {**os.environ, "CODY_BATCH_URL": url}
        env.pop("CODY_BATCH_API_TOKEN", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        commands = {
            "`python -c pass` (baseline)": [sys.executable, "-c", "pass"],
            "`cody-batch --help`": [str(SCRIPT), "--help"],
            "`cody-batch submit PROMPT REPO`": [str(SCRIPT), "submit", "Say hello.", "owner/name"],
            "`cody-batch jobs`": [str(SCRIPT), "jobs"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # the warm-up round: bytecode caches written, not counted
            wall(command, env)
        for _ in range(ROUNDS):
            for name, command in commands.items():  # alternating: every round runs each once
                times[name].append(wall(command, env))
    load = os.getloadavg()[0]
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["`python -c pass` (baseline)"]
    lines = [
        f"`python bench/cli_start_bench.py`: whole-process wall time, median of {ROUNDS} rounds, each round "
        f"running every command once in turn after one uncounted round; {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} at the start and {load:.1f} at the end. "
        f"`submit` and `jobs` talk to a stand-in endpoint that answers at once. Goal: at most {GOAL_SECONDS} s.",
        "",
        "| command | wall (median) | ratio to `python -c pass` | goal met |",
        "|---|---|---|---|",
    ]
    for name, value in medians.items():
        met = "" if name.startswith("`python") else ("yes" if value <= GOAL_SECONDS else "no")
        lines.append(f"| {name} | {value:.3f} s | {value / base:.1f} | {met} |")
    body = "\n".join(lines)
    publish("cli-start-bench", body, arguments)


if __name__ == "__main__":
    main()

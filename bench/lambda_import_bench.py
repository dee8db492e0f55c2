"""Cold-start import cost of the Lambda handlers, against `import strawberry, boto3` alone.

Each round imports one module in a fresh interpreter and times the import itself (not the
interpreter's start). Rounds alternate between the baseline and the modules, so load on the
machine weighs on both alike; the figure is the ratio of medians from the same run.

Run: `python bench/lambda_import_bench.py`. Results go to docs/PERFORMANCE.md (section lambda-import-bench).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import command_line, publish  # noqa: E402

ROUNDS = 11
GOAL = 2.0
BASELINE = "strawberry, boto3"
# The handler module alone, then what each handler's first invocation imports on top of it (the runtime
# reads the function's keys from the stack's secret).
SECRET = "server.aws.deployment_secret"
RUNTIME = f"server.lambdas, server.aws.lambda_runtime, {SECRET}"
MODULES = {
    "`server.lambdas` (the module the four functions name)": "server.lambdas",
    "http_handler (+ runtime, HTTP app, Mangum)": f"{RUNTIME}, server.aws.http_app, mangum",
    "websocket_handler (+ runtime, protocol, Powertools events)": (
        f"{RUNTIME}, server.aws.websocket, aws_lambda_powertools.utilities.data_classes"
    ),
    # In the order the function loads them: the fan-out (and Powertools) before the runtime's pydantic.
    "stream_handler (+ runtime, fan-out, Powertools batch)": f"server.lambdas, server.aws.stream, {RUNTIME}",
    # No runtime, schema or secret: the store, the Batch dispatcher and Powertools' parser.
    "batch_handler (+ store, Batch dispatcher, Powertools parser)": (
        "server.lambdas, server.aws.batch_failures, server.aws.clients, store.dynamodb, server.aws.batch_dispatcher"
    ),
}
# Not under the goal: the GitHub function's handler, and what the HTTP handler would cost had it
# imported PyGithub itself on the pull-request paths instead of invoking the GitHub function.
COMPARED = {
    "github_handler (its own function: PyGithub, the worker's GitHub code, the store)": (
        "server.aws.github_lambda, server.aws.github_function, worker.github.pull_status, store.dynamodb,"
        f" store.dynamo_pacer, {SECRET}"
    ),
    "http_handler had it loaded PyGithub itself (not built)": (
        f"{RUNTIME}, server.aws.http_app, mangum, worker.github.pull_status"
    ),
}
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
# Bytecode is written by the first import and read by the measured ones, whatever the caller's
# environment says: a Lambda reads its bundle's compiled modules, it does not compile on each start.
ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": str(ROOT),
}


def import_seconds(module: str) -> float:
    """Seconds `import module` takes in a fresh interpreter (bytecode already compiled)."""
    answer = subprocess.run(
        [sys.executable, "-c", TIMER.format(module=module)],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(answer.stdout.strip())


def main() -> None:
    """Measure, print and record the ratios."""
    arguments = command_line(__doc__)
    measured = {**MODULES, **COMPARED}
    for module in [BASELINE, *measured.values()]:
        import_seconds(module)  # compile bytecode once, outside the measured rounds
    samples: dict[str, list[float]] = {name: [] for name in [BASELINE, *measured]}
    for _ in range(ROUNDS):
        samples[BASELINE].append(import_seconds(BASELINE))
        for name, module in measured.items():
            samples[name].append(import_seconds(module))
    baseline = statistics.median(samples[BASELINE])
    rows = [f"| `import {BASELINE}` (baseline) | {baseline:.2f} s | 1.00 |"]
    worst = 0.0
    for name in MODULES:
        median = statistics.median(samples[name])
        worst = max(worst, median / baseline)
        rows.append(f"| {name} | {median:.2f} s | {median / baseline:.2f} |")
    compared = [
        f"| {name} | {statistics.median(samples[name]):.2f} s | {statistics.median(samples[name]) / baseline:.2f} |"
        for name in COMPARED
    ]
    verdict = "meets" if worst <= GOAL else "misses"
    body = "\n".join(
        [
            "## Lambda handler import time",
            "",
            f"`python bench/lambda_import_bench.py`: each module imported in a fresh interpreter, median of "
            f"{ROUNDS} rounds, rounds alternating with the baseline in the same run ({os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f} at the end). Goal: at most {GOAL:g}x the baseline.",
            "",
            "| module | import (median) | ratio to baseline |",
            "|---|---|---|",
            *rows,
            "",
            f"Worst ratio {worst:.2f}: {verdict} the goal. The handlers import no worker, Claude, git or GitHub "
            "code (an import contract), and each function loads only its own handler's stack on its first "
            "invocation; what they add to the baseline is pydantic, the schema's types, the settings, and per "
            "handler Starlette and Mangum, or Powertools.",
            "",
            "Beside the goal, in the same rounds:",
            "",
            "| module | import (median) | ratio to baseline |",
            "|---|---|---|",
            *compared,
            "",
            "The GitHub function pays for PyGithub once, on its own cold start; the HTTP function invokes it "
            "for each GitHub call of a refresh, a webhook delivery or a bulk action (docs/DESIGN.md).",
        ]
    )
    publish("lambda-import-bench", body, arguments)


if __name__ == "__main__":
    main()

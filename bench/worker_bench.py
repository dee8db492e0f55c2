"""Worker benchmarks: pipeline overhead vs plain `git clone`, and wall time when the model is the bottleneck.

Run: `python bench/worker_bench.py`. Results go to docs/PERFORMANCE.md (section worker-bench).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from bench.report import command_line, publish  # noqa: E402
from core.services.jobs import JobRequest, create_job  # noqa: E402
from core.settings import Settings  # noqa: E402
from server.runtime.dispatcher import SubprocessDispatcher  # noqa: E402
from store.sqlite import SqliteStore  # noqa: E402
from tests.fakes.anthropic_server import (  # noqa: E402
    FakeAnthropic,
    RecordedRequest,
    Step,
    edit,
    slow,
    text_turn,
    tool_turn,
    view,
)

REPOSITORIES = 5
FILES_PER_REPOSITORY = 2000
MODEL_SECONDS_PER_TURN = 1.0
TURNS = 3
ROUNDS = 3
OVERHEAD_GOAL = 1.0
MODEL_BOUND_GOAL = 1.15


def make_repository(path: Path, files: int) -> Path:
    """A git repository with `files` small Python files in 50 packages, plus app.py."""
    for i in range(files):
        target = path / f"pkg{i % 50:02d}" / f"module_{i:04d}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f'"""Module {i}."""\n\n\ndef value_{i}() -> int:\n    return {i}\n')
    (path / "app.py").write_text("print('hi')\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        subprocess.run(["git", *args], cwd=path, check=True)
    return path


def scripted_turn(delay: float) -> Step:
    """View, edit, then finish, whichever run asks, answering after `delay` seconds."""

    def answer(request: RecordedRequest) -> dict[str, Any]:
        done = sum(1 for m in request.body["messages"] if m["role"] == "assistant")
        turns = [
            tool_turn(view("app.py")),
            tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
            text_turn("Changed the greeting."),
        ]
        return slow(turns[min(done, 2)], delay) if delay else turns[min(done, 2)]

    return answer


def clone_one_after_another(repos: list[Path], scratch: Path) -> float:
    """Seconds for plain `git clone` of every repository in turn."""
    started = time.perf_counter()
    for repo in repos:
        subprocess.run(["git", "clone", "-q", str(repo), str(scratch / repo.name)], check=True)
    return time.perf_counter() - started


def run_job(settings: Settings, store: SqliteStore, dispatcher: SubprocessDispatcher, repos: list[Path]) -> float:
    """Seconds from submitting a job over `repos` until every run has finished (all must succeed)."""
    started = time.perf_counter()
    job = create_job(store, dispatcher, settings, JobRequest(prompt="Say hello.", repositories=[str(r) for r in repos]))
    while True:
        runs = store.get_runs([job.id])[job.id]
        if all(r.status.finished for r in runs):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    bad = [f"{r.location}: {r.status} {r.error}" for r in runs if r.status != "SUCCEEDED"]
    if bad:
        raise SystemExit(f"benchmark job failed: {bad}")
    return elapsed


def measure(work: Path, repos: list[Path], workspace_dir: Path) -> dict[str, float]:
    """Median seconds of each measurement over ROUNDS rounds; workspaces and baseline clones in `workspace_dir`."""
    figures: dict[str, list[float]] = {"clone": [], "overhead": [], "model_bound": []}
    with FakeAnthropic() as fake:
        settings = Settings(
            data_dir=work / "data",
            allowed_repos=[f"{work / 'repos'}/*"],
            anthropic_api_key=SecretStr(fake.api_key),
            anthropic_base_url=fake.url,
            workers=REPOSITORIES,
            workspace_dir=workspace_dir,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(settings.database_path)
        dispatcher = SubprocessDispatcher(settings)
        dispatcher.warm_up()  # the server warms the forkserver at startup
        try:
            for _ in range(ROUNDS):
                with tempfile.TemporaryDirectory(dir=workspace_dir) as scratch:
                    figures["clone"].append(clone_one_after_another(repos, Path(scratch)))
                fake.script([scripted_turn(0.0)] * REPOSITORIES * TURNS)
                figures["overhead"].append(run_job(settings, store, dispatcher, repos))
                fake.script([scripted_turn(MODEL_SECONDS_PER_TURN)] * REPOSITORIES * TURNS)
                figures["model_bound"].append(run_job(settings, store, dispatcher, repos))
        finally:
            dispatcher.close()
            store.close()
    return {name: statistics.median(values) for name, values in figures.items()}


def rows(name: str, figures: dict[str, float]) -> list[str]:
    """Two table rows for one workspace location."""
    model_alone = MODEL_SECONDS_PER_TURN * TURNS
    overhead = figures["overhead"] / figures["clone"]
    model_bound = figures["model_bound"] / model_alone
    return [
        f"| {name} | job with an instant scripted model vs plain `git clone` of the 5 in turn | "
        f"{figures['overhead']:.2f} | {figures['clone']:.2f} | **{overhead:.3f}** | <= {OVERHEAD_GOAL:.2f} |",
        f"| {name} | job with a model taking {MODEL_SECONDS_PER_TURN:g} s per turn, {TURNS} turns per run, "
        f"vs the model alone | {figures['model_bound']:.2f} | {model_alone:.2f} | **{model_bound:.3f}** | "
        f"<= {MODEL_BOUND_GOAL:.2f} |",
    ]


def main() -> None:
    """Measure, print and record the worker figures, for workspaces on disk and (if present) in tmpfs."""
    arguments = command_line(__doc__)
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    places = {"temp dir (disk)": Path(tempfile.gettempdir())}
    if Path("/dev/shm").is_dir():
        places["tmpfs (/dev/shm)"] = Path("/dev/shm")
    lines = [
        f"Median of {ROUNDS} rounds; {REPOSITORIES} local repositories of {FILES_PER_REPOSITORY + 1} files; "
        f"{os.cpu_count()} CPUs; forkserver warmed as at server start; the baseline clones into the same "
        "place as the workspaces (`CODY_BATCH_WORKSPACE_DIR`). Workspaces are lazy: the clone checks out "
        "the root files only and the file tools check out what they touch; Claude's first call overlaps the clone.",
        "",
        "| workspaces in | measurement | seconds | baseline | ratio | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp:
        work = Path(tmp)
        repos = [make_repository(work / "repos" / f"repo{i}", FILES_PER_REPOSITORY) for i in range(REPOSITORIES)]
        for name, place in places.items():
            lines += rows(name, measure(work, repos, place))
    lines += [
        "",
        "Reading: the instant-model job is the floor of the pipeline (fork, lazy clone, three HTTP turns, "
        "validate, patch, store writes) with 5 runs sharing the CPUs; the model-bound job adds the model's "
        "3 s. Before lazy workspaces, checking out 5 x 2,001 files cost about 4 s on disk (model-bound "
        "2.55-2.71); now a run writes 2 files, so disk and tmpfs rows are close. The forkserver also "
        "imports the SDK's lazily loaded HTTP transport before any run forks (model-bound 1.15-1.19 on disk "
        "before that, 1.09-1.11 after). What remains is process start, the client's TLS context and the "
        "store writes of 5 runs sharing 2 CPUs.",
    ]
    body = "\n".join(lines)
    publish("worker-bench", body, arguments)


if __name__ == "__main__":
    main()

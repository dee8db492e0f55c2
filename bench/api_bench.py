"""API benchmark: `jobs(first: 50)` with nested runs at 1,000 and 100,000 stored jobs.

Goal: latency ratio (100k / 1k) <= 1.3 and a constant number of store reads per page.
Runs the real schema over a real SqliteStore; writes its result to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section
from core.models import (
    EventKind,
    Job,
    NewEvent,
    RepositoryRun,
    RunStatus,
    Usage,
)
from core.ports import Change
from core.settings import Settings
from resolvers.context import Context
from schema.build import get_schema
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher

QUERY = """
query Page($after: String) {
  jobs(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status createdAt usage { costUsd }
      repositories { id index location status step attempt usage { inputTokens costUsd } } } }
  }
}
"""
RUNS_PER_JOB = 3


def seed(store: SqliteStore, count: int) -> None:
    """`count` jobs with three finished runs each."""
    for i in range(count):
        job = Job(title=f"job {i}", prompt="upgrade pydantic", model="claude-sonnet-5-5")
        runs = [
            RepositoryRun(
                job_id=job.id,
                index=k,
                location=f"github.com/acme/repo{k}",
                status=RunStatus.SUCCEEDED,
                usage=Usage(input_tokens=1000, cost_usd=0.01),
            )
            for k in range(RUNS_PER_JOB)
        ]
        store.commit(
            Change(
                job=job,
                job_version=None,
                runs=[(r, None) for r in runs],
                events=[NewEvent(kind=EventKind.STATUS, new_value="QUEUED")],
            )
        )


async def measure(store: SqliteStore, settings: Settings, repeats: int) -> tuple[float, int]:
    """Median seconds per first page, and store reads per page."""
    schema = get_schema()
    times, reads = [], set()
    for _ in range(repeats):
        context = Context(store=store, dispatcher=RecordingDispatcher(), settings=settings)
        before = store.reads
        start = time.perf_counter()
        result = await schema.execute(QUERY, context_value=context)
        times.append(time.perf_counter() - start)
        assert result.errors is None, result.errors
        assert result.data is not None and len(result.data["jobs"]["edges"]) == 50
        reads.add(store.reads - before)
    assert len(reads) == 1, f"reads per page varied: {reads}"
    return statistics.median(times), reads.pop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/PERFORMANCE.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        stores = {}
        for count in (args.small, args.large):
            stores[count] = SqliteStore(Path(tmp) / f"bench-{count}.sqlite3")
            started = time.perf_counter()
            seed(stores[count], count)
            print(f"{count:>7} jobs seeded in {time.perf_counter() - started:.1f} s")
        # Both sizes are measured in alternating rounds, so warm-up, garbage collection and
        # machine noise fall on both alike.
        samples: dict[int, list[float]] = {c: [] for c in stores}
        reads: dict[int, int] = {}
        for _ in range(args.rounds):
            for count, store in stores.items():
                seconds, reads[count] = await measure(store, settings, args.repeats // args.rounds)
                samples[count].append(seconds)
        results = {c: (statistics.median(samples[c]), reads[c]) for c in stores}
        for count, (seconds, page_reads) in results.items():
            print(f"{count:>7} jobs: page {seconds * 1000:.2f} ms, {page_reads} store reads")
        for store in stores.values():
            store.close()
    (small_t, small_r), (large_t, large_r) = results[args.small], results[args.large]
    ratio = large_t / small_t
    print(f"latency ratio {args.large} / {args.small} jobs: {ratio:.2f} (goal <= 1.3)")
    body = (
        f"`jobs(first: 50)` with {RUNS_PER_JOB} runs per job, through the schema over SqliteStore, "
        f"median of {args.rounds} alternating rounds of {args.repeats // args.rounds}:\n\n"
        f"| stored jobs | page latency | store reads per page |\n|---|---|---|\n"
        f"| {args.small:,} | {small_t * 1000:.2f} ms | {small_r} |\n"
        f"| {args.large:,} | {large_t * 1000:.2f} ms | {large_r} |\n\n"
        f"Latency ratio: **{ratio:.2f}** (goal <= 1.3). Store reads per page: **{large_r}** at both sizes "
        f"(goal: constant)."
    )
    if not args.no_write:
        write_section("api-bench", body)


if __name__ == "__main__":
    asyncio.run(main())

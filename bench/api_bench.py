"""API benchmark: `jobs(first: 50)` with nested runs at a small and a large number of stored jobs.

Goal: latency ratio (large / small) <= 1.3 and a constant number of store reads per page.
Runs the real schema over a real SqliteStore (1,000 and 100,000 jobs) and over DynamoStore on
moto (1,000 and 10,000 jobs: `--store dynamodb`); writes its result to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

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
from store.dynamodb import DynamoStore
from store.sqlite import SqliteStore
from tests.fakes import moto_aws
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


def seed(store: Any, count: int) -> None:
    """`count` jobs with three finished runs each."""
    write = seed_write(store)
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
        write(
            Change(
                job=job,
                job_version=None,
                runs=[(r, None) for r in runs],
                events=[NewEvent(kind=EventKind.STATUS, new_value="QUEUED")],
            )
        )


def seed_write(store: Any) -> Callable[[Change], object]:
    """How seeding writes a change: a commit, or on moto the same items in plain batch writes.

    moto copies every table for each transaction, so committing 10,000 jobs one by one takes
    hours; the items written are the ones a commit writes.
    """
    if not isinstance(store, DynamoStore):
        return store.commit

    def write(change: Change) -> None:
        writes, _ = store.writes_for(change)
        requests = [{"PutRequest": {"Item": w["Put"]["Item"]}} for w in writes]
        for start in range(0, len(requests), 25):
            store.dynamodb.batch_write_item(RequestItems={store.table_name: requests[start : start + 25]})

    return write


async def measure(store: Any, settings: Settings, repeats: int) -> tuple[float, int]:
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


StoreFactory = Callable[[Path, int], AbstractContextManager[Any]]


def sqlite_store(tmp: Path, count: int) -> AbstractContextManager[Any]:
    return closing(SqliteStore(tmp / f"bench-{count}.sqlite3"))


@contextmanager
def dynamo_store(_: Path, count: int) -> Iterator[Any]:
    with moto_aws.dynamo_store() as store:
        yield store


ADAPTERS: dict[str, tuple[str, StoreFactory, int, int]] = {
    "sqlite": ("SqliteStore", sqlite_store, 1_000, 100_000),
    # moto answers an index query by filtering every item of the table in Python, so its
    # latency grows with the table where DynamoDB's does not; the requests and items read
    # per page are what DynamoDB bills and what must stay flat.
    "dynamodb": ("DynamoStore on moto", dynamo_store, 1_000, 10_000),
}


async def bench(name: str, args: argparse.Namespace) -> str:
    """Seed both sizes, measure them in alternating rounds; the section text for docs/PERFORMANCE.md."""
    label, factory, small, large = ADAPTERS[name]
    small, large = args.small or small, args.large or large
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        settings = Settings(data_dir=Path(tmp))
        stores = {}
        for count in (small, large):
            stores[count] = stack.enter_context(factory(Path(tmp), count))
            started = time.perf_counter()
            seed(stores[count], count)
            print(f"{label}: {count:>7} jobs seeded in {time.perf_counter() - started:.1f} s")
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
            print(f"{label}: {count:>7} jobs: page {seconds * 1000:.2f} ms, {page_reads} store reads")
    (small_t, small_r), (large_t, large_r) = results[small], results[large]
    ratio = large_t / small_t
    print(f"{label}: latency ratio {large} / {small} jobs: {ratio:.2f}")
    return (
        f"`jobs(first: 50)` with {RUNS_PER_JOB} runs per job, through the schema over {label}, "
        f"median of {args.rounds} alternating rounds of {args.repeats // args.rounds}:\n\n"
        f"| stored jobs | page latency | store reads per page |\n|---|---|---|\n"
        f"| {small:,} | {small_t * 1000:.2f} ms | {small_r} |\n"
        f"| {large:,} | {large_t * 1000:.2f} ms | {large_r} |\n\n"
        f"Latency ratio: **{ratio:.2f}** (goal <= 1.3). Store reads per page: **{large_r}** at both sizes "
        f"(goal: constant)."
    )


SECTIONS = {"sqlite": "api-bench", "dynamodb": "api-bench-dynamodb"}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=[*ADAPTERS, "both"], default="sqlite")
    parser.add_argument("--small", type=int, default=0, help="jobs in the small store (default: per adapter)")
    parser.add_argument("--large", type=int, default=0, help="jobs in the large store (default: per adapter)")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/PERFORMANCE.md alone")
    args = parser.parse_args()
    for name in ADAPTERS if args.store == "both" else [args.store]:
        body = await bench(name, args)
        if not args.no_write:
            write_section(SECTIONS[name], body)


if __name__ == "__main__":
    asyncio.run(main())

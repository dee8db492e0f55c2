"""Live updates under load: 500 graphql-ws subscribers following 100 jobs on one `cody-batch serve`.

Run: `python bench/subscription_load_bench.py`. Results go to docs/PERFORMANCE.md (section
subscription-load-bench).

Each round starts `cody-batch serve` from its console script with default settings on a fresh
data dir, its runs talking to the fake Anthropic API (tests/fakes) over HTTP. One client
process (asyncio and the websockets library, speaking graphql-transport-ws) opens SUBSCRIBERS
connections and one more for a `jobsUpdated` listener, then creates JOBS one-repository jobs
over HTTP one after another; after each, SUBSCRIBERS / JOBS connections subscribe to it with
`jobUpdated(id, after)` (the CLI's document, the cursor createJob returned). Every RECONNECT-th
connection drops after its first frame and resubscribes on a new connection with the last
cursor it saw. Measured:

- latency from a state's `updatedAt` to its frame's arrival at the client (p50, p99), and from
  the commit of its event; the first frame after each subscribe is a catch-up (a state from
  before the client subscribed, whose age is the client's absence) and is counted apart;
- createJob latency (p50) while the subscribers are open and the jobs run;
- duplicate frames (a cursor twice on one subscription), reordered ones (a cursor older than
  the one before), subscriptions that did not end in the job's final state, and cursors
  missing from `jobEvents`;
- CPU seconds of the server and of the client process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_door_bench import one_file_repository, serve  # noqa: E402
from bench.report import command_line, publish  # noqa: E402
from bench.worker_bench import TURNS, scripted_turn  # noqa: E402
from server.cli import queries as q  # noqa: E402
from tests.fakes.anthropic_server import FakeAnthropic  # noqa: E402
from tests.security.serve_process import ServeProcess  # noqa: E402

SUBSCRIBERS = int(os.environ.get("SUBSCRIPTION_LOAD_SUBSCRIBERS", "500"))
JOB_COUNTS = [int(n) for n in os.environ.get("SUBSCRIPTION_LOAD_JOBS", "100,20").split(",")]
ROUNDS = int(os.environ.get("SUBSCRIPTION_LOAD_ROUNDS", "3"))
MODEL_SECONDS = float(os.environ.get("SUBSCRIPTION_LOAD_MODEL_SECONDS", "0.2"))
RECONNECT = 10  # every 10th follower drops after its first frame and resumes with `after`
FINISHED = ("SUCCEEDED", "FAILED", "PARTIAL", "CANCELLED")
PATIENCE = 600  # seconds a round may take before it is abandoned as failed
GOALS = {"p50": 25.0, "p99": 100.0, "create_p50": 50.0}
JOBS_UPDATED = "subscription JobsUpdated { jobsUpdated { id status cursor updatedAt } }"


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Follower:
    """One subscription of one job, over one connection at a time."""

    job_id: str
    drops: bool
    frames: list[tuple[float, str]] = field(default_factory=list)  # arrival, message text
    reconnected: bool = False
    # Indexes of frames that were the first after a subscribe: a state committed before the client
    # (re)subscribed, so their age measures the client's absence rather than the fan-out.
    catch_up: set[int] = field(default_factory=set)
    subscribed: bool = True

    def jobs(self) -> list[dict[str, Any]]:
        return [json.loads(text)["payload"]["data"]["jobUpdated"] for _, text in self.frames]


async def _open(ws_url: str) -> ClientConnection:
    connection = await connect(ws_url, subprotocols=["graphql-transport-ws"], max_size=None)  # type: ignore[list-item]
    await connection.send('{"type":"connection_init","payload":{}}')
    ack = json.loads(await connection.recv())
    if ack.get("type") != "connection_ack":
        raise SystemExit(f"no connection_ack: {ack}")
    return connection


async def _subscribe(connection: ClientConnection, query: str, variables: dict[str, Any]) -> None:
    payload = {"query": query, "variables": variables}
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _follow(ws_url: str, connection: ClientConnection, follower: Follower, after: str | None) -> None:
    """Record every frame until the job finishes; a dropping follower resumes once on a new connection."""
    await _subscribe(connection, q.JOB_UPDATED, {"id": follower.job_id, "after": after})
    while True:
        text = await connection.recv()
        arrived = time.time()
        message = json.loads(text)
        if message.get("type") == "ping":
            await connection.send('{"type":"pong"}')
            continue
        if message.get("type") != "next":
            raise SystemExit(f"unexpected message for job {follower.job_id}: {text!r:.300}")
        if follower.subscribed:
            follower.catch_up.add(len(follower.frames))
            follower.subscribed = False
        follower.frames.append((arrived, str(text)))
        job = message["payload"]["data"]["jobUpdated"]
        if job["status"] in FINISHED:
            await connection.close()
            return
        if follower.drops and not follower.reconnected:
            follower.reconnected = True
            await connection.close()
            connection = await _open(ws_url)
            follower.subscribed = True
            await _subscribe(connection, q.JOB_UPDATED, {"id": follower.job_id, "after": job["cursor"]})


async def _listen_all(connection: ClientConnection, frames: list[tuple[float, str]]) -> None:
    await _subscribe(connection, JOBS_UPDATED, {})
    async for text in connection:
        frames.append((time.time(), str(text)))


@dataclass
class Round:
    """What one round measured."""

    latencies_ms: list[float]
    from_commit_ms: list[float]  # from the commit of the state's event (its `at`) instead of `updatedAt`
    listener_latencies_ms: list[float]
    create_ms: list[float]
    frames: int
    catch_up: int  # first frames after a subscribe, left out of the latencies
    duplicates: int
    reordered: int
    not_final: int
    unknown_cursors: int
    reconnects: int
    server_cpu: float
    client_cpu: float
    wall: float
    client_lag_ms: list[float] = field(default_factory=list)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime of the process and of its waited-for children (fields 14-17 of stat)
    return sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _watch_lag(lags: list[float]) -> None:
    """How late this client's event loop wakes from a 10 ms sleep: the share of a latency that is the client's."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - before - 0.01) * 1000)


async def _round(served: ServeProcess, repos: list[Path], jobs: int) -> Round:
    ws_url = served.url.replace("http://", "ws://")
    per_job = SUBSCRIBERS // jobs
    connections = []
    for start in range(0, SUBSCRIBERS, 50):
        connections += await asyncio.gather(*(_open(ws_url) for _ in range(start, min(start + 50, SUBSCRIBERS))))
    listener_frames: list[tuple[float, str]] = []
    listener = asyncio.create_task(_listen_all(await _open(ws_url), listener_frames))
    lags: list[float] = []
    watch = asyncio.create_task(_watch_lag(lags))
    followers: list[Follower] = []
    tasks = []
    create_ms = []
    server_cpu, client_cpu, started = _cpu_seconds(served.proc.pid), _client_cpu(), time.monotonic()
    async with httpx.AsyncClient(timeout=60) as http:
        for i in range(jobs):
            variables = {"input": {"prompt": "Say hello.", "repositories": [str(repos[i])]}}
            sent = time.perf_counter()
            response = await http.post(served.url, json={"query": q.CREATE_JOB, "variables": variables})
            create_ms.append((time.perf_counter() - sent) * 1000)
            job = response.json()["data"]["createJob"]
            for k in range(per_job):
                follower = Follower(job["id"], drops=(i * per_job + k) % RECONNECT == 0)
                followers.append(follower)
                connection = connections[i * per_job + k]
                tasks.append(asyncio.create_task(_follow(ws_url, connection, follower, job["cursor"])))
        await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
        wall = time.monotonic() - started
        server_cpu, client_cpu = _cpu_seconds(served.proc.pid) - server_cpu, _client_cpu() - client_cpu
        listener.cancel()
        watch.cancel()
        events = {}
        for job_id in {f.job_id for f in followers}:
            query = "query($id: ID!) { job(id: $id) { cursor } jobEvents(jobId: $id, first: 100) { cursor at } }"
            data = (await http.post(served.url, json={"query": query, "variables": {"id": job_id}})).json()["data"]
            events[job_id] = (data["job"]["cursor"], {e["cursor"]: _epoch(e["at"]) for e in data["jobEvents"]})
    round_ = _judge(followers, listener_frames, events, create_ms, server_cpu, client_cpu, wall)
    round_.client_lag_ms = lags
    return round_


def _judge(
    followers: list[Follower],
    listener_frames: list[tuple[float, str]],
    events: dict[str, tuple[str, dict[str, float]]],
    create_ms: list[float],
    server_cpu: float,
    client_cpu: float,
    wall: float,
) -> Round:
    latencies: list[float] = []
    from_commit: list[float] = []
    duplicates, reordered, not_final, unknown, catch_up = 0, 0, 0, 0, 0
    for follower in followers:
        jobs = follower.jobs()
        cursors = [job["cursor"] for job in jobs]
        final, known = events[follower.job_id]
        duplicates += len(cursors) - len(set(cursors))
        reordered += sum(1 for a, b in itertools.pairwise(cursors) if b < a)
        not_final += cursors[-1] != final
        unknown += sum(1 for c in cursors if c not in known)
        live = [
            (at, job)
            for i, ((at, _), job) in enumerate(zip(follower.frames, jobs, strict=True))
            if i not in follower.catch_up
        ]
        catch_up += len(follower.catch_up)
        latencies += [(at - _epoch(job["updatedAt"])) * 1000 for at, job in live]
        from_commit += [(at - known[job["cursor"]]) * 1000 for at, job in live if job["cursor"] in known]
    listener = []
    for arrived, text in listener_frames:
        job = json.loads(text)["payload"]["data"]["jobsUpdated"]
        listener.append((arrived - _epoch(job["updatedAt"])) * 1000)
    return Round(
        latencies_ms=latencies,
        from_commit_ms=from_commit,
        listener_latencies_ms=listener,
        create_ms=create_ms,
        frames=len(latencies) + len(listener),
        catch_up=catch_up,
        duplicates=duplicates,
        reordered=reordered,
        not_final=not_final,
        unknown_cursors=unknown,
        reconnects=sum(f.reconnected for f in followers),
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        wall=wall,
    )


def _drain(served: ServeProcess) -> threading.Thread:
    """Read the server's output as it comes, so a full pipe never blocks it."""
    stream = served.proc.stdout

    def read() -> None:
        if stream is not None:
            for _ in stream:
                pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(work: Path, repos: list[Path], jobs: int) -> list[Round]:
    """ROUNDS rounds of `jobs` jobs, each on a freshly started server."""
    rounds = []
    with FakeAnthropic() as fake:
        for _ in range(ROUNDS):
            fake.script([scripted_turn(MODEL_SECONDS)] * jobs * TURNS)
            served = serve(work, fake)
            _drain(served)
            try:
                rounds.append(asyncio.run(_round(served, repos, jobs)))
            finally:
                served.stop()
    return rounds


def summary(rounds: list[Round]) -> dict[str, float]:
    """Median over the rounds of each figure."""

    def med(values: list[float]) -> float:
        return statistics.median(values)

    return {
        "p50": med([percentile(r.latencies_ms, 0.5) for r in rounds]),
        "p99": med([percentile(r.latencies_ms, 0.99) for r in rounds]),
        "commit_p50": med([percentile(r.from_commit_ms, 0.5) for r in rounds]),
        "commit_p99": med([percentile(r.from_commit_ms, 0.99) for r in rounds]),
        "listener_p50": med([percentile(r.listener_latencies_ms, 0.5) for r in rounds]),
        "listener_p99": med([percentile(r.listener_latencies_ms, 0.99) for r in rounds]),
        "create_p50": med([percentile(r.create_ms, 0.5) for r in rounds]),
        "frames": med([float(r.frames) for r in rounds]),
        "catch_up": med([float(r.catch_up) for r in rounds]),
        "client_lag_p99": med([percentile(r.client_lag_ms, 0.99) for r in rounds]),
        "server_cpu": med([r.server_cpu for r in rounds]),
        "client_cpu": med([r.client_cpu for r in rounds]),
        "wall": med([r.wall for r in rounds]),
        "duplicates": float(sum(r.duplicates for r in rounds)),
        "reordered": float(sum(r.reordered for r in rounds)),
        "not_final": float(sum(r.not_final for r in rounds)),
        "unknown_cursors": float(sum(r.unknown_cursors for r in rounds)),
        "reconnects": float(sum(r.reconnects for r in rounds)),
    }


def report(results: dict[int, list[Round]], load: tuple[float, float]) -> str:
    """The table for docs/PERFORMANCE.md."""
    lines = [
        f"`python bench/subscription_load_bench.py`: `cody-batch serve` with default settings, the fake Anthropic "
        f"API over HTTP (each turn answered after {MODEL_SECONDS:g} s, {TURNS} turns per run); {SUBSCRIBERS} "
        f"graphql-ws connections each following one job with `jobUpdated(id, after)`, plus one `jobsUpdated` "
        f"listener; one-repository jobs created one after another over HTTP. Median of {ROUNDS} rounds, each on "
        f"a freshly started server; {os.cpu_count()} CPUs, load average {load[0]:.1f} before and {load[1]:.1f} "
        f"after (1 min).",
        "",
        "| jobs | latency p50 | p99 | from the commit p50 / p99 | `jobsUpdated` p50 / p99 | createJob p50 | "
        "frames live + catch-up | server CPU | client CPU | wall | duplicates | reordered | not final | "
        "cursors not in jobEvents | resumed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for jobs, rounds in results.items():
        s = summary(rounds)
        lines.append(
            f"| {jobs} | **{s['p50']:.1f} ms** | **{s['p99']:.1f} ms** | {s['commit_p50']:.1f} / "
            f"{s['commit_p99']:.1f} ms | {s['listener_p50']:.1f} / "
            f"{s['listener_p99']:.1f} ms | **{s['create_p50']:.1f} ms** | {s['frames']:.0f} + {s['catch_up']:.0f} | "
            f"{s['server_cpu']:.1f} s | {s['client_cpu']:.1f} s (loop lag p99 {s['client_lag_p99']:.0f} ms) | "
            f"{s['wall']:.1f} s | {s['duplicates']:.0f} | "
            f"{s['reordered']:.0f} | {s['not_final']:.0f} | {s['unknown_cursors']:.0f} | {s['reconnects']:.0f} |"
        )
    main_jobs = JOB_COUNTS[0]
    s = summary(results[main_jobs])
    met = s["p50"] <= GOALS["p50"] and s["p99"] <= GOALS["p99"] and s["create_p50"] <= GOALS["create_p50"]
    met = met and s["duplicates"] == 0
    every = "; ".join(
        f"{jobs} jobs: p50 {' / '.join(f'{percentile(r.latencies_ms, 0.5):.1f}' for r in rs)}, "
        f"p99 {' / '.join(f'{percentile(r.latencies_ms, 0.99):.1f}' for r in rs)}, "
        f"createJob p50 {' / '.join(f'{percentile(r.create_ms, 0.5):.1f}' for r in rs)}"
        for jobs, rs in results.items()
    )
    lines += [
        "",
        f"Goals at {SUBSCRIBERS} subscribers x {main_jobs} jobs: p50 <= {GOALS['p50']:g} ms, p99 <= "
        f"{GOALS['p99']:g} ms, createJob p50 <= {GOALS['create_p50']:g} ms, no duplicate frames: "
        f"**{'met' if met else 'not met'}**. Every round (ms): {every}.",
    ]
    return "\n".join(lines)


def main() -> None:
    """Measure, print and record the subscription load figures."""
    arguments = command_line(__doc__)
    arguments.no_write |= os.environ.get("SUBSCRIPTION_LOAD_RECORD", "1") != "1"
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * SUBSCRIBERS + 256)), hard))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="subscription-load-bench-") as tmp:
        work = Path(tmp)
        repos = [one_file_repository(work / "repos" / f"r{i}") for i in range(max(JOB_COUNTS))]
        results = {jobs: measure(work, repos, jobs) for jobs in JOB_COUNTS}
    body = report(results, (load_before, os.getloadavg()[0]))
    publish("subscription-load-bench", body, arguments)


if __name__ == "__main__":
    main()

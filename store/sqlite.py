"""SqliteStore: the embedded default store (WAL, versioned writes, events in the same transaction)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from core.errors import ConflictError
from core.ids import iso, utcnow
from core.models import Event, Job, JobStatus, RepositoryRun
from core.ports import Change, Page
from store.commit_wake import CommitPoke, CommitWakeListener, wake_address
from store.page_cursor import page_after, page_cursor

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
-- Ids are ULIDs, so id order is creation order: both indexes serve newest-first pages.
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, id);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (job_id, idx)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    run_id TEXT,
    kind TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    at TEXT NOT NULL,
    UNIQUE (job_id, seq)
);
-- Patches and threads live apart from the rows that list queries read.
CREATE TABLE IF NOT EXISTS artifacts (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL);
"""

_JOB_EXCLUDE = {"version", "last_seq"}
_RUN_EXCLUDE = {"version"}


class SqliteStore:
    """Store over one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.reads = 0
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._feed_conn: sqlite3.Connection | None = None
        self._commit_listeners: list[Callable[[], None]] = []
        self._poke = CommitPoke(wake_address(self.path))
        self._conn.executescript(SCHEMA)

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        self.reads += 1
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
        self._feed_conn = None
        self._poke.close()

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> list[Event]:
        """Apply rows, events and artifacts in one transaction; ConflictError on a stale version."""
        job = change.job
        now = utcnow()
        with self._write() as conn:
            if change.job_version is None:
                last_seq = 0
                if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job.id,)).fetchone():
                    raise ConflictError(f"job {job.id} already exists")
            else:
                row = conn.execute(
                    "SELECT last_seq FROM jobs WHERE id = ? AND version = ?", (job.id, change.job_version)
                ).fetchone()
                if row is None:
                    raise ConflictError(f"job {job.id} changed since version {change.job_version}")
                last_seq = row[0]
            events = [
                Event(job_id=job.id, seq=last_seq + i + 1, at=now, **e.model_dump())
                for i, e in enumerate(change.events)
            ]
            new_seq = last_seq + len(events)
            data = job.model_dump_json(exclude=_JOB_EXCLUDE)
            if change.job_version is None:
                conn.execute(
                    "INSERT INTO jobs (id, status, version, last_seq, data) VALUES (?, ?, 1, ?, ?)",
                    (job.id, job.status.value, new_seq, data),
                )
            else:
                conn.execute(
                    "UPDATE jobs SET status = ?, version = version + 1, last_seq = ?, data = ? WHERE id = ?",
                    (job.status.value, new_seq, data, job.id),
                )
            for run, version in change.runs:
                self._write_run(conn, run, version)
            conn.executemany(
                "INSERT INTO events (job_id, seq, run_id, kind, old_value, new_value, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.job_id, e.seq, e.run_id, e.kind.value, e.old_value, e.new_value, iso(e.at)) for e in events],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO artifacts (key, data) VALUES (?, ?)", list(change.artifacts.items())
            )
        if events:
            self._announce_commit()
        return events

    def _announce_commit(self) -> None:
        # After COMMIT, so whoever is woken reads the new events.
        for listener in list(self._commit_listeners):
            listener()
        self._poke.poke()

    def _write_run(self, conn: sqlite3.Connection, run: RepositoryRun, version: int | None) -> None:
        data = run.model_dump_json(exclude=_RUN_EXCLUDE)
        if version is None:
            try:
                conn.execute(
                    "INSERT INTO runs (id, job_id, idx, version, data) VALUES (?, ?, ?, 1, ?)",
                    (run.id, run.job_id, run.index, data),
                )
            except sqlite3.IntegrityError:
                raise ConflictError(f"run {run.id} already exists") from None
            return
        cursor = conn.execute(
            "UPDATE runs SET version = version + 1, data = ? WHERE id = ? AND version = ?",
            (data, run.id, version),
        )
        if cursor.rowcount != 1:
            raise ConflictError(f"run {run.id} changed since version {version}")

    def put_artifact(self, key: str, data: bytes) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO artifacts (key, data) VALUES (?, ?)", (key, data))

    def cache_put(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, time.time() + ttl_seconds),
            )

    def cache_add(self, key: str, value: str, ttl_seconds: int) -> bool:
        now = time.time()
        with self._write() as conn:
            # One statement: a concurrent add of the same key waits for this write, then finds it.
            cursor = conn.execute(
                "INSERT INTO cache (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
                " WHERE cache.expires_at <= ?",
                (key, value, now + ttl_seconds, now),
            )
            return cursor.rowcount == 1

    def cache_delete(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM cache WHERE key = ?", (key,))

    # -- reads -------------------------------------------------------------------------

    @staticmethod
    def _job(row: sqlite3.Row | tuple[str, int, int]) -> Job:
        data, version, last_seq = row
        return Job.model_validate_json(data).model_copy(update={"version": version, "last_seq": last_seq})

    @staticmethod
    def _run(row: sqlite3.Row | tuple[str, int]) -> RepositoryRun:
        data, version = row
        return RepositoryRun.model_validate_json(data).model_copy(update={"version": version})

    def get_job(self, job_id: str) -> Job | None:
        rows = self._read("SELECT data, version, last_seq FROM jobs WHERE id = ?", (job_id,))
        return self._job(rows[0]) if rows else None

    def get_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        if not job_ids:
            return []
        marks = ",".join("?" * len(job_ids))
        rows = self._read(f"SELECT id, data, version, last_seq FROM jobs WHERE id IN ({marks})", list(job_ids))
        found = {r[0]: self._job(r[1:]) for r in rows}
        return [found.get(i) for i in job_ids]

    def list_jobs(self, first: int, after: str | None = None, status: JobStatus | None = None) -> Page:
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if after:
            where.append("id < ?")
            params.append(page_after(after))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"SELECT data, version, last_seq FROM jobs {clause} ORDER BY id DESC LIMIT ?",
            [*params, first + 1],
        )
        jobs = [self._job(r) for r in rows[:first]]
        return Page(jobs=jobs, cursors=[page_cursor(job.id) for job in jobs], has_next=len(rows) > first)

    def get_run(self, run_id: str) -> RepositoryRun | None:
        rows = self._read("SELECT data, version FROM runs WHERE id = ?", (run_id,))
        return self._run(rows[0]) if rows else None

    def get_runs(self, job_ids: Sequence[str]) -> dict[str, list[RepositoryRun]]:
        out: dict[str, list[RepositoryRun]] = {i: [] for i in job_ids}
        if not job_ids:
            return out
        marks = ",".join("?" * len(job_ids))
        rows = self._read(
            f"SELECT job_id, data, version FROM runs WHERE job_id IN ({marks}) ORDER BY job_id, idx",
            list(job_ids),
        )
        for job_id, data, version in rows:
            out[job_id].append(self._run((data, version)))
        return out

    @staticmethod
    def _event(row: sqlite3.Row | tuple[object, ...]) -> Event:
        job_id, seq, run_id, kind, old, new, at = row
        return Event.model_validate(
            {
                "job_id": job_id,
                "seq": seq,
                "run_id": run_id,
                "kind": kind,
                "old_value": old,
                "new_value": new,
                "at": at,
            }
        )

    def list_events(self, job_id: str, after_seq: int = 0, limit: int = 100) -> list[Event]:
        rows = self._read(
            "SELECT job_id, seq, run_id, kind, old_value, new_value, at FROM events"
            " WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (job_id, after_seq, limit),
        )
        return [self._event(r) for r in rows]

    def get_artifact(self, key: str) -> bytes | None:
        rows = self._read("SELECT data FROM artifacts WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def cache_get(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM cache WHERE key = ? AND expires_at > ?", (key, time.time()))
        return rows[0][0] if rows else None

    # -- change feed (local backend) ---------------------------------------------------

    def feed_since(self, after_id: int, limit: int = 500) -> list[tuple[int, Event]]:
        """Events of every job after a global id, oldest first."""
        rows = self._read(
            "SELECT id, job_id, seq, run_id, kind, old_value, new_value, at FROM events"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [(r[0], self._event(r[1:])) for r in rows]

    def last_feed_id(self) -> int:
        rows = self._read("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(rows[0][0])

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the committing thread) after each commit of this process that adds events."""
        self._commit_listeners.append(listener)

    def remove_commit_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener`."""
        if listener in self._commit_listeners:
            self._commit_listeners.remove(listener)

    def listen_for_commits(self) -> CommitWakeListener | None:
        """A socket poked after each commit that adds events, by any process; None when unavailable."""
        return CommitWakeListener.bind(self._poke.address)

    def data_version(self) -> int:
        """Changes whenever another connection (any process) commits."""
        with self._lock:
            if self._feed_conn is None:
                self._feed_conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                self._all.append(self._feed_conn)
            return int(self._feed_conn.execute("PRAGMA data_version").fetchone()[0])

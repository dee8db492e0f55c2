"""SqliteStore: the embedded default store (WAL, versioned writes, events in the same transaction)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import ConflictError
from core.ids import iso, utcnow
from core.models import Event, RepositoryRun
from core.ports import Change
from store.commit_wake import CommitPoke, CommitWakeListener, wake_address
from store.sqlite_reads import NonWaitingReads, SqliteReads

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


class SqliteStore(SqliteReads):
    """Store over one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path | str, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.path = str(path)
        self._clock = clock
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

    def _connection(self) -> sqlite3.Connection:
        return self._conn

    def non_waiting_reads(self) -> NonWaitingReads:
        """Reads over a new connection that never waits for a lock (for an event loop's own thread)."""
        conn = self._connect()
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA query_only=1")
        return NonWaitingReads(conn, self)

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
        with self._write() as conn:
            # Stamped under the write lock: a writer that took the lock first has already committed, so the
            # times of events in feed (commit) order never go backwards, whoever waited longer for the lock.
            now = self._clock()
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

    # -- change feed (local backend) ---------------------------------------------------

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

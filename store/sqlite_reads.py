"""The store's reads over SQLite, and a reader an event loop may call without waiting.

`SqliteStore` reads over one connection per thread that waits up to 30 s for a lock. Its
`NonWaitingReads` read over a connection of their own that never waits: in WAL mode a reader
takes no lock a writer holds, so a read is refused (`ReadRefused`) only in the rare moments
SQLite itself makes readers wait (a checkpoint resetting the log, a recovery), and a read that
could be large (many keys, a blob) is refused before it starts. The caller then reads in a
thread instead; the server's event loop reads this way (server/runtime/loop_reads.py).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from core.models import Event, Job, JobStatus, RepositoryRun
from core.ports import Page
from store.page_cursor import page_after, page_cursor

# The most keys (jobs, runs' jobs) or events one non-waiting read may ask for: a DataLoader batch of
# one subscription event asks for one; a page of the jobs list may ask for a hundred.
SMALL_READ = 20
# The largest artifact read (and, for a thread, parsed: about 0.2 ms) on the loop: a thread of a few turns.
SMALL_ARTIFACT = 16 * 1024
# A burst of events the feed reads at once (its batch is up to 500 rows, about 1 ms each 100).
FEED_READ = 500


class ReadRefused(Exception):
    """A non-waiting read that would have waited for a lock, or that may be too large to make at once."""


class SqliteReads:
    """The row reads of the SQLite store, over whatever connection `_connection` gives."""

    reads = 0

    def _connection(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        self.reads += 1
        return self._connection().execute(sql, params).fetchall()

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


class NonWaitingReads(SqliteReads):
    """Small reads over one connection that never waits for a lock; each refused read raises ReadRefused."""

    def __init__(self, conn: sqlite3.Connection, store: SqliteReads) -> None:
        self.connection = conn
        self.store = store  # the store these reads belong to: a refused read may be made there (it waits)

    def _connection(self) -> sqlite3.Connection:
        return self.connection

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        # Counted with the store's reads too: "reads per event" holds wherever a read ran.
        self.store.reads += 1
        try:
            return super()._read(sql, params)
        except sqlite3.OperationalError as err:
            # busy_timeout is 0: "database is locked" at once instead of waiting on the loop.
            raise ReadRefused(str(err)) from err

    @staticmethod
    def _small(count: int, most: int = SMALL_READ) -> None:
        if count > most:
            raise ReadRefused(f"{count} rows asked for; at most {most} are read without a thread")

    def get_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        self._small(len(job_ids))
        return super().get_jobs(job_ids)

    def get_runs(self, job_ids: Sequence[str]) -> dict[str, list[RepositoryRun]]:
        self._small(len(job_ids))
        return super().get_runs(job_ids)

    def list_jobs(self, first: int, after: str | None = None, status: JobStatus | None = None) -> Page:
        self._small(first)
        return super().list_jobs(first, after, status)

    def list_events(self, job_id: str, after_seq: int = 0, limit: int = 100) -> list[Event]:
        self._small(limit)
        return super().list_events(job_id, after_seq, limit)

    def feed_since(self, after_id: int, limit: int = 500) -> list[tuple[int, Event]]:
        self._small(limit, FEED_READ)
        return super().feed_since(after_id, limit)

    def get_artifact(self, key: str) -> bytes | None:
        # length() of a blob comes from its record header: a large artifact is refused unread.
        rows = self._read(
            "SELECT length(data), CASE WHEN length(data) <= ? THEN data END FROM artifacts WHERE key = ?",
            (SMALL_ARTIFACT, key),
        )
        if not rows:
            return None
        size, data = rows[0]
        if data is None:
            raise ReadRefused(f"an artifact of {size} bytes is read in a thread")
        return bytes(data)

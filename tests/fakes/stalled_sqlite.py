"""A SQLite database whose write of a patch artifact stalls, as a disk that stops answering would: a real
substitute for tests that must kill a process while it is inside exactly that write.

SQLite gives no outside way to let one write commit and hold the very next one of the same process (a
second connection's write lock would have to be taken in the microseconds between them). A trigger is
inside the write: before a `patches/...` artifact row goes in, it counts a cross join of 10^12 rows, so
the writer stays in that statement, holding the write lock, until it is killed. Other connections go on
reading (WAL). Writes of a run that has been resumed since are not held, so the resumed run goes through.

    with stalled_patch_writes(store.path):
        ...  # a run reaching its patch step stays in `put_artifact`
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

_STALL = """
CREATE TABLE stall_rows (n INTEGER);
WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter LIMIT 1000)
INSERT INTO stall_rows (n) SELECT n FROM counter;
CREATE TRIGGER stall_patch_write BEFORE INSERT ON artifacts
WHEN NEW.key LIKE 'patches/%' AND NOT EXISTS (
    SELECT 1 FROM runs
    WHERE NEW.key LIKE 'patches/' || runs.id || '/%' AND json_array_length(runs.data, '$.resumptions') > 0
)
BEGIN
    SELECT count(*) FROM stall_rows a, stall_rows b, stall_rows c, stall_rows d;
END;
"""
_UNSTALL = "DROP TRIGGER IF EXISTS stall_patch_write; DROP TABLE IF EXISTS stall_rows;"


@contextmanager
def stalled_patch_writes(database: str) -> Iterator[None]:
    """While inside, a patch artifact of a run not yet resumed is never written: its writer stays in the write."""
    with closing(sqlite3.connect(database, timeout=30, isolation_level=None)) as conn:
        conn.executescript(_STALL)
        try:
            yield
        finally:
            conn.executescript(_UNSTALL)


def write_locked(database: str) -> bool:
    """Whether another connection holds the database's write lock right now (its write is under way)."""
    with closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        conn.execute("ROLLBACK")
        return False

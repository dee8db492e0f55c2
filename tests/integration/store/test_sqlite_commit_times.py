"""SqliteStore stamps event times under the write lock, so times follow commit order across writers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.ids import utcnow
from core.models import EventKind, Job, NewEvent
from core.ports import Change
from store.sqlite import SqliteStore
from tests.fakes.stalled_sqlite import write_locked


def _new_job_change(title: str) -> Change:
    job = Job(title=title, prompt="p", model="claude-sonnet-5-5")
    return Change(job=job, job_version=None, events=[NewEvent(kind=EventKind.STATUS, new_value="QUEUED")])


def test_a_writer_that_gets_the_lock_in_between_never_makes_event_times_go_backwards(tmp_path: Path) -> None:
    # GIVEN two stores (two writers) on one database; the first one's clock lets the second writer commit
    # whenever the write lock is free at the very moment the first writer takes its time
    database = tmp_path / "order.sqlite3"
    other = SqliteStore(database)
    lock_held_at_stamp: list[bool] = []

    def clock_with_a_rival() -> dt.datetime:
        stamp = utcnow()
        locked = write_locked(str(database))
        lock_held_at_stamp.append(locked)
        if not locked:
            other.commit(_new_job_change("rival"))  # later time, earlier commit
        return stamp

    first = SqliteStore(database, clock=clock_with_a_rival)
    # WHEN the first writer commits a job, and the rival writer commits another afterwards
    first.commit(_new_job_change("first"))
    other.commit(_new_job_change("after"))
    # THEN the first writer's time was taken holding the write lock, so no one could commit in between
    assert lock_held_at_stamp == [True]
    # AND the times of the events, read in commit (feed) order, never decrease
    feed = first.feed_since(0)
    times = [event.at for _, event in feed]
    assert len(times) == 2
    assert times == sorted(times)
    first.close()
    other.close()

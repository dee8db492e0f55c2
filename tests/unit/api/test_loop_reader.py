"""The loop reader: small reads on the calling loop, any read that could wait or be large in a thread."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from server.runtime.loop_reads import LoopReader
from store.sqlite_reads import SMALL_ARTIFACT, SMALL_READ, ReadRefused


async def test_small_reads_are_answered_on_the_loop_with_the_stores_rows(store: Any, seed_job) -> None:
    # GIVEN a stored job and a loop reader over its store
    job = seed_job(2)
    reader = LoopReader(store)
    loop_thread = threading.get_ident()
    # WHEN the job, its runs and the feed are read through it
    got = await reader(lambda rows: (rows.get_job(job.id), rows.get_runs([job.id]), rows.feed_since(0)))
    ran_on = await reader(lambda rows: threading.get_ident())
    # THEN they are the store's rows, read on this loop's own thread
    assert got == (store.get_job(job.id), store.get_runs([job.id]), store.feed_since(0))
    assert ran_on == loop_thread
    assert (reader.on_loop, reader.in_thread) == (2, 0)


async def test_a_read_of_many_keys_is_refused_on_the_loop_and_made_in_a_thread(store: Any, seed_job) -> None:
    # GIVEN more jobs than a read on the loop may ask for
    ids = [seed_job(1).id for _ in range(SMALL_READ + 1)]
    reader = LoopReader(store)
    # WHEN all their runs are read, and then all but one
    every = await reader(lambda rows: rows.get_runs(ids))
    fewer = await reader(lambda rows: rows.get_runs(ids[1:]))
    # THEN both give the store's rows: the first was read in a thread, the second on the loop
    assert every == store.get_runs(ids) and fewer == store.get_runs(ids[1:])
    assert (reader.on_loop, reader.in_thread) == (1, 1)


def test_large_artifacts_are_refused_unread_and_small_ones_read(store: Any) -> None:
    # GIVEN an artifact at the size limit and one just over it
    store.put_artifact("small", b"s" * SMALL_ARTIFACT)
    store.put_artifact("large", b"l" * (SMALL_ARTIFACT + 1))
    reads = store.non_waiting_reads()
    # THEN the small one (and a missing one) are read without waiting; the large one is refused
    assert reads.get_artifact("small") == b"s" * SMALL_ARTIFACT
    assert reads.get_artifact("missing") is None
    with pytest.raises(ReadRefused):
        reads.get_artifact("large")


async def test_a_read_that_fails_on_the_loop_fails_the_same_way_in_its_thread(store: Any) -> None:
    # GIVEN a read of a table that does not exist
    reader = LoopReader(store)

    def broken(rows: Any) -> Any:
        return rows._read("SELECT * FROM no_such_table")

    # WHEN it is made THEN its error reaches the caller (from the retry in a thread), not a refusal
    with pytest.raises(Exception, match="no such table"):
        await reader(broken)
    assert reader.in_thread == 1

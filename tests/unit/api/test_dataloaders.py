"""DataLoaders: a page of jobs with their runs costs a constant number of store reads."""

from __future__ import annotations

QUERY = "query($n: Int) { jobs(first: $n) { edges { node { id status repositories { id status location } } } } }"


async def reads_for(gql, store, first: int) -> tuple[int, int]:
    before = store.reads
    _, body = await gql(QUERY, {"n": first})
    return store.reads - before, len(body["data"]["jobs"]["edges"])


async def test_jobs_with_runs_cost_constant_reads(gql, seed_job, store) -> None:
    # GIVEN 30 jobs of two repositories each
    for _ in range(30):
        seed_job(2)
    # WHEN pages of 2 and of 30 jobs are read with their runs
    small_reads, small = await reads_for(gql, store, 2)
    large_reads, large = await reads_for(gql, store, 30)
    # THEN both cost the same few reads (one page read, one batched runs read)
    assert (small, large) == (2, 30)
    assert small_reads == large_reads == 2


async def test_same_job_twice_in_one_request_is_read_once(gql, seed_job, store) -> None:
    job = seed_job(1)
    before = store.reads
    _, body = await gql(
        "query($id: ID!) { a: job(id: $id) { id repositories { id } } b: job(id: $id) { id repositories { id } } }",
        {"id": job.id},
    )
    assert body["data"]["a"] == body["data"]["b"]
    assert store.reads - before == 2


async def test_loaders_do_not_outlive_a_request(gql, seed_job, store) -> None:
    # GIVEN a job read once
    job = seed_job(1)
    query = "query($id: ID!) { job(id: $id) { repositories { status } } }"
    await gql(query, {"id": job.id})
    # WHEN it changes and is read again
    await gql("mutation($id: ID!) { cancelJob(id: $id) { id } }", {"id": job.id})
    _, body = await gql(query, {"id": job.id})
    # THEN the new request sees the change
    assert body["data"]["job"]["repositories"] == [{"status": "CANCELLED"}]

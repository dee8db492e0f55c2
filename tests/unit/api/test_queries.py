"""Queries: job, jobs (Relay pages), jobEvents, settings, thread and patch of a run."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import Any

import httpx

from core.errors import RunErrorKind
from core.models import CommandIsolation, Message, Patch, PatchFile, RunStatus, Thread, Usage
from core.services.jobs import retry_runs
from core.services.progress import RunProgress
from tests.unit.api.conftest import GRAPHQL_RESPONSE

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DIFF = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-print('hi')\n+print('hello')\n"


def finish_run(store: Any, run_id: str) -> None:
    """Drive a run as a worker would: a thread turn, then success with a stored patch."""
    progress = RunProgress(store, run_id)
    progress.advance(status=RunStatus.CLONING, step="clone")
    thread = Thread(
        run_id=run_id,
        model="claude-sonnet-5-5",
        system=[{"type": "text", "text": "You edit one repository.", "cache_control": {"type": "ephemeral"}}],
        tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}],
        messages=[
            Message(index=0, role="user", content=[{"type": "text", "text": "Add type hints"}]),
            Message(
                index=1,
                role="assistant",
                content=[
                    {"type": "thinking", "thinking": "look first", "signature": "s"},
                    {
                        "type": "tool_use",
                        "id": "tu1",
                        "name": "str_replace_based_edit_tool",
                        "input": {"command": "view", "path": "app.py"},
                    },
                ],
                usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.001),
            ),
            Message(
                index=2,
                role="user",
                content=[
                    {
                        "type": "tool_result",
                        "tool_use_id": "tu1",
                        "content": [{"type": "text", "text": "print('hi')"}],
                        "is_error": False,
                    }
                ],
            ),
        ],
    )
    progress.save_thread(thread)
    store.put_artifact("patches/p1.diff", DIFF.encode())
    patch = Patch(
        artifact_key="patches/p1.diff",
        files=[PatchFile(path="app.py", change="MODIFIED", additions=1, deletions=1)],
        additions=1,
        deletions=1,
    )
    progress.advance(status=RunStatus.SUCCEEDED, summary="Changed the greeting", patch=patch)


async def test_job_by_id_and_unknown_id(gql, seed_job) -> None:
    # GIVEN a stored job
    job = seed_job(2)
    # WHEN it is asked for by id
    status, body = await gql(
        "query($id: ID!) { job(id: $id) { id title status cursor createdAt updatedAt usage { costUsd }"
        ' repositories { index status attempt startedAt } } missing: job(id: "nope") { id } }',
        {"id": job.id},
    )
    # THEN it comes back with its runs in order, ISO-8601 ms Z times; an unknown id is null
    assert status == 200
    data = body["data"]
    assert data["missing"] is None
    assert data["job"]["id"] == job.id and data["job"]["status"] == "QUEUED"
    assert [r["index"] for r in data["job"]["repositories"]] == [0, 1]
    assert ISO_MS_Z.match(data["job"]["createdAt"]) and ISO_MS_Z.match(data["job"]["updatedAt"])
    assert data["job"]["cursor"] == job.cursor


async def test_a_run_says_how_its_commands_ran_and_null_when_they_were_off(gql, seed_job, store) -> None:
    # GIVEN a job whose first run's worker recorded commands without filesystem isolation; the second ran none
    job = seed_job(2)
    first = store.get_runs([job.id])[job.id][0]
    progress = RunProgress(store, first.id)
    progress.advance(RunStatus.CLONING)
    refused = CommandIsolation(filesystem=False, network=True, reason="bubblewrap: Operation not permitted")
    progress.advance(RunStatus.RUNNING_AGENT, step="agent", command_isolation=refused)
    # WHEN the job's runs are asked for
    _, body = await gql(
        "query($id: ID!) { job(id: $id) { repositories { commandIsolation { filesystem network reason } } } }",
        {"id": job.id},
    )
    # THEN the first says what its commands could reach and why; the second says nothing
    assert [r["commandIsolation"] for r in body["data"]["job"]["repositories"]] == [
        {"filesystem": False, "network": True, "reason": "bubblewrap: Operation not permitted"},
        None,
    ]


async def test_a_retried_runs_earlier_attempt_keeps_how_its_commands_ran(gql, seed_job, store, dispatcher) -> None:
    # GIVEN a run whose commands ran isolated, which then failed and was retried
    job = seed_job(1)
    [run] = store.get_runs([job.id])[job.id]
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.CLONING)
    progress.advance(RunStatus.RUNNING_AGENT, command_isolation=CommandIsolation(filesystem=True, network=True))
    progress.fail(RunErrorKind.REFUSAL, "the model declined the change")
    retry_runs(store, dispatcher, job.id)
    # WHEN its run and attempts are asked for
    _, body = await gql(
        "query($id: ID!) { job(id: $id) { repositories { attempt commandIsolation { filesystem }"
        " attempts { attempt commandIsolation { filesystem network reason } } } } }",
        {"id": job.id},
    )
    # THEN attempt 1 says its commands ran isolated; attempt 2 has not recorded anything yet
    [shown] = body["data"]["job"]["repositories"]
    assert (shown["attempt"], shown["commandIsolation"]) == (2, None)
    assert shown["attempts"] == [
        {"attempt": 1, "commandIsolation": {"filesystem": True, "network": True, "reason": None}}
    ]


async def test_jobs_pages_newest_first(gql, seed_job) -> None:
    # GIVEN three jobs
    ids = [seed_job(1).id for _ in range(3)]
    query = (
        "query($after: String) { jobs(first: 2, after: $after) {"
        " edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    # WHEN paged two at a time
    _, first = await gql(query)
    page1 = first["data"]["jobs"]
    _, second = await gql(query, {"after": page1["pageInfo"]["endCursor"]})
    page2 = second["data"]["jobs"]
    # THEN newest first, the last edge's cursor is the end cursor, and the second page ends the list
    assert [e["node"]["id"] for e in page1["edges"]] == ids[::-1][:2]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert page1["edges"][-1]["cursor"] == page1["pageInfo"]["endCursor"]
    assert [e["node"]["id"] for e in page2["edges"]] == ids[:1]
    assert page2["pageInfo"]["hasNextPage"] is False
    # AND an edge cursor works as `after` too
    _, third = await gql(query, {"after": page1["edges"][0]["cursor"]})
    assert [e["node"]["id"] for e in third["data"]["jobs"]["edges"]] == [ids[1], ids[0]]


async def test_jobs_filter_by_status(gql, seed_job, store) -> None:
    queued = seed_job(1)
    done = seed_job(1)
    finish_run(store, store.get_runs([done.id])[done.id][0].id)
    _, body = await gql("{ jobs(status: SUCCEEDED) { edges { node { id status } } } }")
    assert [e["node"] for e in body["data"]["jobs"]["edges"]] == [{"id": done.id, "status": "SUCCEEDED"}]
    assert queued.id not in str(body)


async def test_first_over_100_in_a_variable_is_a_field_error(gql) -> None:
    status, body = await gql("query($n: Int) { jobs(first: $n) { edges { cursor } } }", {"n": 101})
    assert status == 200
    assert body["data"] is None
    assert "at most 100" in body["errors"][0]["message"] or "between 1 and 100" in body["errors"][0]["message"]


async def test_bad_page_cursor_is_a_field_error(gql) -> None:
    _, body = await gql('{ jobs(after: "%%%") { edges { cursor } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_job_events_in_order_with_cursor(gql, seed_job, store) -> None:
    # GIVEN a job whose run went through a few changes
    job = seed_job(1)
    finish_run(store, store.get_runs([job.id])[job.id][0].id)
    query = (
        "query($id: ID!, $after: String) {"
        " jobEvents(jobId: $id, after: $after) { cursor kind runId oldValue newValue at } }"
    )
    # WHEN its events are read, then read again after the third
    _, body = await gql(query, {"id": job.id})
    events = body["data"]["jobEvents"]
    _, rest = await gql(query, {"id": job.id, "after": events[2]["cursor"]})
    # THEN every event is there in order, and `after` resumes right after the cursor
    assert events[0]["kind"] == "STATUS" and events[0]["newValue"] == "QUEUED"
    assert {"STATUS", "STEP", "TURN"} <= {e["kind"] for e in events}
    assert all(ISO_MS_Z.match(e["at"]) for e in events)
    assert rest["data"]["jobEvents"] == events[3:]


async def test_job_events_of_unknown_job_is_not_found(gql) -> None:
    _, body = await gql('{ jobEvents(jobId: "nope") { cursor } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_settings(gql, settings) -> None:
    _, body = await gql(
        "{ settings { backend allowedRepositories maxRepositories models defaultModel commandsEnabled demo"
        " sampleRepositories } }"
    )
    assert body["data"]["settings"] == {
        "backend": "local",
        "allowedRepositories": settings.allowlist,
        "maxRepositories": 5,
        "models": settings.models,
        "defaultModel": settings.model,
        "commandsEnabled": False,
        "demo": False,
        "sampleRepositories": [],
    }


async def test_run_thread_patch_and_download(gql, client: httpx.AsyncClient, seed_job, store) -> None:
    # GIVEN a job whose run finished with a thread and a patch
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    finish_run(store, run_id)
    # WHEN the run is queried with its thread and patch
    _, body = await gql(
        """query($id: ID!) { job(id: $id) { status repositories {
            status summary finishedAt
            thread { model turns messages { index role usage { outputTokens } blocks { __typename
              ... on TextBlock { text } ... on ThinkingBlock { thinking }
              ... on ToolUseBlock { id name input } ... on ToolResultBlock { toolUseId content isError } } } }
            patch { diff filesChanged additions deletions files { path change } downloadUrl } } } }""",
        {"id": job.id},
        accept=GRAPHQL_RESPONSE,
    )
    run = body["data"]["job"]["repositories"][0]
    # THEN the thread's blocks are typed, the diff is loaded, and the download link serves it
    assert body["data"]["job"]["status"] == "SUCCEEDED"
    assert run["summary"] == "Changed the greeting" and ISO_MS_Z.match(run["finishedAt"])
    thread = run["thread"]
    assert thread["turns"] == 1 and thread["model"] == "claude-sonnet-5-5"
    blocks = [b for m in thread["messages"] for b in m["blocks"]]
    assert blocks == [
        {"__typename": "TextBlock", "text": "Add type hints"},
        {"__typename": "ThinkingBlock", "thinking": "look first"},
        {
            "__typename": "ToolUseBlock",
            "id": "tu1",
            "name": "str_replace_based_edit_tool",
            "input": {"command": "view", "path": "app.py"},
        },
        {"__typename": "ToolResultBlock", "toolUseId": "tu1", "content": "print('hi')", "isError": False},
    ]
    assert thread["messages"][1]["usage"] == {"outputTokens": 5}
    patch = run["patch"]
    assert patch["diff"] == DIFF
    assert (patch["filesChanged"], patch["additions"], patch["deletions"]) == (1, 1, 1)
    assert patch["downloadUrl"] == f"/jobs/{job.id}/runs/{run_id}/patch"
    download = await client.get(patch["downloadUrl"])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/x-diff")
    assert "attachment" in download.headers["content-disposition"]
    assert download.text == DIFF


async def test_download_of_unknown_run_is_404(client: httpx.AsyncClient, seed_job) -> None:
    job = seed_job(1)
    assert (await client.get(f"/jobs/{job.id}/runs/nope/patch")).status_code == 404


async def test_a_run_is_readable_alone_with_its_thread(gql, seed_job, store) -> None:
    # GIVEN a job of two runs, the first finished with a thread
    job = seed_job(2)
    first, second = store.get_runs([job.id])[job.id]
    finish_run(store, first.id)
    # WHEN one run is asked for by id, and an unknown id too
    query = "query($id: ID!) { run(id: $id) { id index status thread { turns system toolNames messages { role } } } }"
    _, one = await gql(query, {"id": first.id})
    _, other = await gql(query, {"id": second.id})
    _, unknown = await gql(query, {"id": "01NOSUCHRUN"})
    # THEN the run comes alone with its thread; a run without turns has none; an unknown id is null
    run = one["data"]["run"]
    assert (run["id"], run["index"], run["status"]) == (first.id, 0, "SUCCEEDED")
    assert run["thread"]["turns"] == 1
    assert run["thread"]["system"] == "You edit one repository."
    assert run["thread"]["toolNames"] == ["str_replace_based_edit_tool"]
    assert [m["role"] for m in run["thread"]["messages"]] == ["user", "assistant", "user"]
    assert other["data"]["run"]["thread"] is None
    assert unknown == {"data": {"run": None}}


async def test_a_runs_turns_come_from_the_run_and_from_its_thread_when_stored_before_it_kept_them(
    gql, seed_job, store
) -> None:
    # GIVEN two finished runs of one turn each; the second's row written before runs kept their count
    job = seed_job(2)
    first, second = store.get_runs([job.id])[job.id]
    finish_run(store, first.id)
    finish_run(store, second.id)
    with closing(sqlite3.connect(store.path)) as conn, conn:
        conn.execute("UPDATE runs SET data = json_remove(data, '$.turns') WHERE id = ?", (second.id,))
    assert store.get_run(second.id).turns == 0
    # WHEN the job's runs are asked for their turns
    _, body = await gql("query($id: ID!) { job(id: $id) { repositories { turns } } }", {"id": job.id})
    # THEN both say one turn: the first as the run keeps it, the second as its thread holds it
    assert [r["turns"] for r in body["data"]["job"]["repositories"]] == [1, 1]
    # AND a run with no turn yet has none
    fresh = seed_job(1)
    _, body = await gql("query($id: ID!) { job(id: $id) { repositories { turns } } }", {"id": fresh.id})
    assert body["data"]["job"]["repositories"] == [{"turns": 0}]

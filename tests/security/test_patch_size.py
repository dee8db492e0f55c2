"""Patch size: a change over CODY_BATCH_MAX_PATCH_BYTES fails with PATCH_TOO_LARGE before anything is
stored; an allowed large patch gives its size, and `diff(maxBytes:)` lets a UI skip fetching it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.models import Patch, RunStatus
from core.services.progress import RunProgress
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, bash, edit, tool_turn
from tests.integration.worker.conftest import greeting_edit, run_all, submit
from worker.patch import PatchTooLarge, patch_key, stage
from worker.workspace import checkout

CAP = 100_000

LARGE_CHANGES = {
    "random file from a command": bash("head -c 300000 /dev/urandom > blob.bin"),
    "text file from the editor": edit("create", "big.txt", file_text="y\n" * 60_000),
}


@pytest.fixture
def capped_settings(model_settings: Settings) -> Settings:
    return model_settings.model_copy(update={"allow_commands": True, "max_patch_bytes": CAP})


@pytest.mark.parametrize("change", list(LARGE_CHANGES.values()), ids=list(LARGE_CHANGES))
def test_a_patch_over_the_cap_fails_the_run_and_stores_nothing(
    change: dict[str, Any],
    capped_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a cap of 100 KB and Claude producing a change of several hundred KB
    job = submit(capped_settings, store, [make_repo("huge")])
    fake_model.script([tool_turn(change), *greeting_edit()])
    # WHEN the run is worked
    [run] = run_all(capped_settings, store, job)
    # THEN it fails with its own kind, naming the cap, and no patch exists anywhere
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.kind == "PATCH_TOO_LARGE" and "CODY_BATCH_MAX_PATCH_BYTES" in run.error.message
    assert run.patch is None and store.get_artifact(patch_key(run.id, run.attempt)) is None


def test_a_patch_under_the_cap_is_stored_with_its_size(
    capped_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN the same cap and an ordinary change
    job = submit(capped_settings, store, [make_repo("small")])
    fake_model.script(greeting_edit())
    # WHEN the run is worked
    [run] = run_all(capped_settings, store, job)
    # THEN the patch is stored and knows its size
    assert run.status is RunStatus.SUCCEEDED and run.patch is not None
    stored = store.get_artifact(run.patch.artifact_key)
    assert stored is not None and run.patch.size_bytes == len(stored)


DIFF_QUERY = """query($id: ID!, $max: Int) { run(id: $id) { patch {
  sizeBytes whole: diff limited: diff(maxBytes: $max) } } }"""
DIFF = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-print('hi')\n+print('hello')\n"


def store_patch(store: Any, run_id: str, size_bytes: int | None) -> None:
    """Finish a run with DIFF as its stored patch; its size recorded or (as in older stores) not."""
    store.put_artifact(f"patches/{run_id}.diff", DIFF.encode())
    progress = RunProgress(store, run_id)
    progress.advance(status=RunStatus.CLONING, step="clone")
    patch = Patch(artifact_key=f"patches/{run_id}.diff", size_bytes=size_bytes)
    progress.advance(status=RunStatus.SUCCEEDED, patch=patch)


@pytest.mark.parametrize("recorded", [True, False], ids=["size recorded", "size not recorded"])
@pytest.mark.parametrize(("max_bytes", "shown"), [(None, True), (len(DIFF), True), (len(DIFF) - 1, False), (0, False)])
async def test_diff_with_max_bytes_is_null_for_a_larger_patch(
    gql: Any, seed_job: Any, store: Any, recorded: bool, max_bytes: int | None, shown: bool
) -> None:
    # GIVEN a run with a stored patch
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    store_patch(store, run_id, len(DIFF) if recorded else None)
    # WHEN its diff is asked for whole and with a byte limit
    status, body = await gql(DIFF_QUERY, {"id": run_id, "max": max_bytes})
    # THEN the whole diff is always there, the limited one only when it fits, and the size when recorded
    assert status == 200, body
    patch = body["data"]["run"]["patch"]
    assert patch["whole"] == DIFF
    assert patch["limited"] == (DIFF if shown else None)
    assert patch["sizeBytes"] == (len(DIFF) if recorded else None)


@pytest.mark.parametrize(("slack", "fits"), [(0, True), (1, True), (-1, False)], ids=["exactly", "under", "over"])
def test_the_cap_holds_to_the_byte(slack: int, fits: bool, make_repo: Callable[..., Path]) -> None:
    # GIVEN a workspace with a change of a few hundred KB of random bytes, and its whole diff's size
    with checkout(str(make_repo("exact"))) as workspace:
        (workspace.path / "noise.bin").write_bytes(os.urandom(300_000))
        size = len(stage(workspace).data)
        # WHEN it is staged again with a cap around that size
        if fits:
            staged = stage(workspace, max_bytes=size + slack)
            # THEN up to the cap the whole diff comes back
            assert len(staged.data) == size
        else:
            # THEN over the cap staging refuses it
            with pytest.raises(PatchTooLarge):
                stage(workspace, max_bytes=size + slack)

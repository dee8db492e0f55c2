"""A run in a lazy workspace: Claude lists and edits files deep in a repository never checked out in full."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.models import RunStatus
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, RecordedRequest, edit, text_turn, tool_results, tool_turn, view
from tests.integration.worker.conftest import applies_to_fresh_clone, run_all, submit


def test_a_deep_edit_checks_out_one_file_and_patches_exactly_it(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN a repository with 200 files below the root, workspaces in a known place
    files: dict[str, str | bytes] = {f"src/pkg{i % 10}/mod_{i}.py": f"VALUE = {i}\n" for i in range(200)}
    origin = make_repo("deep", {"README.md": "# deep\n", **files})
    places = tmp_path / "workspaces"
    places.mkdir()
    settings = model_settings.model_copy(update={"workspace_dir": places})
    seen: dict[str, Any] = {}

    def look_at_the_disk(request: RecordedRequest) -> dict[str, Any]:
        # While the run is going on: what Claude saw of src/, and what is on disk.
        seen["listing"] = tool_results(request)[0]["content"]
        seen["files"] = sorted(p.name for p in places.glob("*/repo/**/*") if p.is_file() and ".git" not in p.parts)
        return tool_turn(edit("str_replace", "src/pkg3/mod_13.py", old_str="VALUE = 13", new_str="VALUE = 31"))

    fake_model.script([tool_turn(view("src")), look_at_the_disk, text_turn("Changed the value.")])
    job = submit(settings, store, [origin])

    # WHEN the run is worked
    [run] = run_all(settings, store, job)

    # THEN Claude saw the directory from the index while only the root file was on disk
    assert "\npkg3/\n" in seen["listing"] and "\npkg3/mod_13.py\n" in seen["listing"]
    assert seen["files"] == ["README.md"]
    # AND the run succeeded with a one-file patch, syntax-checked, that applies to a fresh clone
    assert run.status is RunStatus.SUCCEEDED and run.patch is not None
    assert [f.path for f in run.patch.files] == ["src/pkg3/mod_13.py"]
    assert run.validation is not None and [c.name for c in run.validation.checks] == ["syntax src/pkg3/mod_13.py"]
    diff = store.get_artifact(run.patch.artifact_key)
    assert diff is not None
    assert (applies_to_fresh_clone(origin, diff, tmp_path) / "src/pkg3/mod_13.py").read_text() == "VALUE = 31\n"

"""Patch: a binary-safe diff with stats that applies to a fresh clone of the base commit."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import git
from worker.patch import ForbiddenPath, PatchTooLarge, changed_paths, stage, to_patch
from worker.workspace import checkout

PNG = bytes(range(256)) * 4


@pytest.mark.parametrize("lazy", [False, True], ids=["full checkout", "lazy checkout"])
def test_patch_with_added_deleted_renamed_and_binary_files_applies_to_a_fresh_clone(
    make_repo: Callable[..., Path], tmp_path: Path, lazy: bool
) -> None:
    # GIVEN a repository and a workspace in which every kind of change is made
    origin = make_repo(
        "app",
        {
            "app.py": "print('hi')\n",
            "old.txt": "to be removed\n",
            "docs/guide.md": "# Guide\n" + "line\n" * 20,
            "logo.png": PNG,
        },
    )
    with checkout(str(origin), lazy=lazy) as workspace:
        workspace.include(["docs/guide.md"])  # a lazy checkout has the root files only
        (workspace.path / "app.py").write_text("print('hello')\nprint('again')\n")
        (workspace.path / "old.txt").unlink()
        (workspace.path / "docs/guide.md").rename(workspace.path / "docs/manual.md")
        (workspace.path / "logo.png").write_bytes(PNG[::-1])
        (workspace.path / "new file.bin").write_bytes(b"\x00\x01\x02binary")
        # WHEN the change is staged and diffed
        diff = stage(workspace)
        patch = to_patch(diff, "patches/r/1.diff", workspace.base_commit)

    # THEN every file is described with its change kind and stats
    by_path = {f.path: f for f in patch.files}
    assert by_path["app.py"].change == "MODIFIED"
    assert (by_path["app.py"].additions, by_path["app.py"].deletions) == (2, 1)
    assert by_path["old.txt"].change == "DELETED"
    assert by_path["docs/manual.md"].change == "RENAMED"
    assert by_path["logo.png"].binary and by_path["logo.png"].change == "MODIFIED"
    assert by_path["new file.bin"].binary and by_path["new file.bin"].change == "ADDED"
    assert patch.files_changed == 5
    assert patch.additions == 2 and patch.deletions == 2

    # AND the diff applies to a fresh clone of the base commit, giving the same files
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    (tmp_path / "change.diff").write_bytes(diff.data)
    subprocess.run(["git", "apply", "--index", str(tmp_path / "change.diff")], cwd=fresh, check=True)
    assert (fresh / "app.py").read_text() == "print('hello')\nprint('again')\n"
    assert not (fresh / "old.txt").exists()
    assert (fresh / "docs/manual.md").exists() and not (fresh / "docs/guide.md").exists()
    assert (fresh / "logo.png").read_bytes() == PNG[::-1]
    assert (fresh / "new file.bin").read_bytes() == b"\x00\x01\x02binary"


@pytest.mark.parametrize("lazy", [False, True], ids=["full checkout", "lazy checkout"])
def test_untouched_workspace_has_an_empty_diff(make_repo: Callable[..., Path], lazy: bool) -> None:
    # GIVEN a fresh workspace
    with checkout(str(make_repo("same", {"README.md": "x\n", "src/a.py": "a = 1\n"})), lazy=lazy) as workspace:
        # WHEN nothing was edited
        diff = stage(workspace)
    # THEN there is nothing to store
    assert diff.empty and diff.data == b""


def test_changed_paths_lists_edits_but_not_deletions(make_repo: Callable[..., Path]) -> None:
    # GIVEN a workspace with one edit and one deletion
    with checkout(str(make_repo("mixed"))) as workspace:
        (workspace.path / "app.py").write_text("print(1)\n")
        (workspace.path / "README.md").unlink()
        # THEN only the file that still exists is listed
        assert changed_paths(workspace) == ["app.py"]


def test_additions_and_deletions_are_counted_apart(make_repo: Callable[..., Path]) -> None:
    # GIVEN a workspace where each file gains and loses a different number of lines
    origin = make_repo(
        "uneven",
        {"grow.py": "a = 1\n", "shrink.txt": "one\ntwo\nthree\nfour\n", "gone.txt": "x\ny\nz\n"},
    )
    with checkout(str(origin)) as workspace:
        (workspace.path / "grow.py").write_text("a = 2\nb = 3\nc = 4\n")
        (workspace.path / "shrink.txt").write_text("one\n")
        (workspace.path / "gone.txt").unlink()
        (workspace.path / "new.md").write_text("# New\n\ntext\n")
        # WHEN the change is staged and described
        base = workspace.base_commit
        diff = stage(workspace)
        patch = to_patch(diff, "patches/r/1.diff", base)

    # THEN every file, and the totals, count added and removed lines separately
    stats = {f.path: (f.additions, f.deletions) for f in patch.files}
    assert stats == {"grow.py": (3, 1), "shrink.txt": (0, 3), "gone.txt": (0, 3), "new.md": (3, 0)}
    assert (patch.additions, patch.deletions) == (6, 7)
    assert patch.base_commit == base and patch.artifact_key == "patches/r/1.diff"
    assert patch.size_bytes == len(diff.data) > 0


def test_a_name_git_treats_as_git_fails_staging_with_its_own_kind(make_repo: Callable[..., Path]) -> None:
    # GIVEN a workspace where something created sub/.Git/x (a command, never the file tools)
    with checkout(str(make_repo("variant"))) as workspace:
        (workspace.path / "sub" / ".Git").mkdir(parents=True)
        (workspace.path / "sub" / ".Git" / "x").write_text("x\n")
        # WHEN the change is staged THEN it is refused as a forbidden path, naming it
        with pytest.raises(ForbiddenPath) as refused:
            stage(workspace)
    assert refused.value.kind == "FORBIDDEN_PATH" and refused.value.step is None
    assert refused.value.message == (
        "the change creates 'sub/.Git/x', a name git treats as .git (on Windows or macOS it names the git "
        "directory), so it cannot be part of a patch"
    )


def test_a_patch_over_the_cap_names_the_cap_and_says_nothing_was_stored() -> None:
    too_large = PatchTooLarge(10_000_000)
    assert (too_large.kind, too_large.step) == ("PATCH_TOO_LARGE", None)
    assert too_large.message == (
        "the change's diff is larger than the patch size cap of 10,000,000 bytes "
        "(CODY_BATCH_MAX_PATCH_BYTES); nothing was stored"
    )


def test_a_renamed_file_and_a_name_with_a_tab_keep_their_own_line_counts(make_repo: Callable[..., Path]) -> None:
    # GIVEN a change that renames a file while editing it, and edits a file whose name holds a tab
    body = "".join(f"line {i}\n" for i in range(20))
    origin = make_repo("names", {"old/name.txt": body, "tab\there.txt": "a\n"})
    with checkout(str(origin)) as workspace:
        (workspace.path / "old/name.txt").unlink()
        (workspace.path / "new").mkdir()
        (workspace.path / "new/name.txt").write_text(body + "added\n")
        (workspace.path / "tab\there.txt").write_text("a\nb\nc\n")
        # WHEN it is staged
        files = stage(workspace).files
    # THEN the rename is counted under its new name, and the tab stays part of the other's name
    assert {(f.path, f.change, f.additions, f.deletions) for f in files} == {
        ("new/name.txt", "RENAMED", 1, 0),
        ("tab\there.txt", "MODIFIED", 2, 0),
    }


def test_a_diff_within_its_cap_is_kept_whole_and_an_untouched_tree_changes_no_paths(
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN an untouched workspace, then one small edit
    with checkout(str(make_repo("capped"))) as workspace:
        assert changed_paths(workspace) == []
        (workspace.path / "app.py").write_text("print('capped')\n")
        # WHEN it is staged under a cap larger than its diff, and under one smaller
        whole = stage(workspace)
        capped = stage(workspace, max_bytes=len(whole.data))
        with pytest.raises(PatchTooLarge):
            stage(workspace, max_bytes=len(whole.data) - 1)
    # THEN under the larger cap the diff is the same, byte for byte
    assert capped.data == whole.data and capped.files == whole.files

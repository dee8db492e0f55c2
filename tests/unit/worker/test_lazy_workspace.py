"""Lazy workspaces: only the root files at first, the rest checked out when a tool touches it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from worker.agent.tools import ToolBox
from worker.lazy_files import LazyFiles
from worker.patch import stage
from worker.validation import run_check, sandboxed_runner
from worker.workspace import Workspace, WorkspaceError, checkout

MakeRepo = Callable[..., Path]


def call(box: ToolBox, **tool_input: Any) -> dict[str, Any]:
    return box.run({"type": "tool_use", "id": "toolu_1", "name": "str_replace_based_edit_tool", "input": tool_input})


def tool_box(workspace: Workspace, **options: Any) -> ToolBox:
    return ToolBox(workspace.path, files=LazyFiles(lambda: workspace), **options)


def on_disk(root: Path) -> set[str]:
    """Files and symlinks under `root`, outside .git."""
    found: set[str] = set()
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        found.update(Path(directory, name).relative_to(root).as_posix() for name in files if name != ".git")
        found.update(Path(directory, d).relative_to(root).as_posix() for d in dirs if Path(directory, d).is_symlink())
    return found


@pytest.fixture
def big_repo(make_repo: MakeRepo) -> Path:
    files: dict[str, str | bytes] = {
        f"pkg{i % 50:02d}/module_{i:04d}.py": f"def value_{i}() -> int:\n    return {i}\n" for i in range(2000)
    }
    return make_repo("big", {**files, "app.py": "print('hi')\n", "README.md": "# big\n"})


@pytest.fixture
def lazy(big_repo: Path) -> Iterator[Workspace]:
    with checkout(str(big_repo), lazy=True) as workspace:
        yield workspace


def test_one_edit_in_a_2000_file_repository_is_a_one_file_patch_and_the_rest_stays_off_disk(
    lazy: Workspace, big_repo: Path, tmp_path: Path
) -> None:
    # GIVEN a lazy workspace of a 2,002-file repository: only the root files are on disk
    assert on_disk(lazy.path) == {"app.py", "README.md"}
    assert git(lazy.path, "status", "--porcelain") == ""
    box = tool_box(lazy)

    # WHEN Claude views and edits one file deep in it
    viewed = call(box, command="view", path="pkg07/module_0007.py")
    edited = call(box, command="str_replace", path="pkg07/module_0007.py", old_str="return 7", new_str="return 70")

    # THEN the file was checked out for it, and it is the only one added to the disk
    assert "def value_7" in viewed["content"] and "is_error" not in edited
    assert on_disk(lazy.path) == {"app.py", "README.md", "pkg07/module_0007.py"}
    # AND the patch is exactly that one file
    diff = stage(lazy)
    assert [(f.path, f.change, f.additions, f.deletions) for f in diff.files] == [
        ("pkg07/module_0007.py", "MODIFIED", 1, 1)
    ]
    # AND it applies to a fresh clone of the base commit
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(big_repo), str(fresh))
    subprocess.run(["git", "apply", "--index", "-"], cwd=fresh, input=diff.data, check=True)
    assert (fresh / "pkg07/module_0007.py").read_text().endswith("return 70\n")
    assert git(fresh, "diff", "--cached", "--name-only").split() == ["pkg07/module_0007.py"]


def test_directory_listings_come_from_the_index_without_checking_files_out(lazy: Workspace) -> None:
    # GIVEN a lazy workspace and its tool box
    box = tool_box(lazy)

    # WHEN Claude lists the root and a directory that is not on disk
    root = call(box, command="view", path=".")["content"].splitlines()
    package = call(box, command="view", path="pkg03")["content"].splitlines()
    as_file = call(box, command="str_replace", path="pkg03", old_str="a", new_str="b")

    # THEN both list tracked files two levels deep, in order, and nothing was checked out
    assert root[1:4] == ["README.md", "app.py", "pkg00/"] and "pkg00/module_0000.py" in root
    assert len(package) == 1 + 40 and package[1] == "module_0003.py"
    assert as_file["is_error"] and "not a regular file" in as_file["content"]
    assert on_disk(lazy.path) == {"app.py", "README.md"}


@pytest.fixture
def linked(make_repo: MakeRepo, tmp_path: Path) -> Iterator[Workspace]:
    origin = make_repo("linked", {"README.md": "# linked\n", "src/real.py": "value = 1\n"})
    (tmp_path / "outside.txt").write_text("outside secret\n")
    (origin / "docs").mkdir()
    (origin / "docs/alias.py").symlink_to("../src/real.py")
    (origin / "docs/secret").symlink_to(tmp_path / "outside.txt")
    (origin / "docs/up").symlink_to("../../..")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "links")
    with checkout(str(origin), lazy=True) as workspace:
        yield workspace


def test_symlinks_are_checked_out_on_demand_and_still_confined(linked: Workspace, tmp_path: Path) -> None:
    # GIVEN a lazy workspace whose links are not on disk yet
    assert on_disk(linked.path) == {"README.md"}
    box = tool_box(linked)

    # WHEN Claude goes through a link inside the repository and links leading out of it
    inside = call(box, command="view", path="docs/alias.py")
    edit = call(box, command="str_replace", path="docs/alias.py", old_str="value = 1", new_str="value = 2")
    secret = call(box, command="view", path="docs/secret")
    overwrite = call(box, command="create", path="docs/secret", file_text="pwned")
    climb = call(box, command="view", path="docs/up/outside.txt")

    # THEN the link and its target were checked out, and the edit landed in the target
    assert "value = 1" in inside["content"] and "is_error" not in edit
    assert (linked.path / "src/real.py").read_text() == "value = 2\n"
    assert [f.path for f in stage(linked).files] == ["src/real.py"]
    # AND the links leading outside were refused once checked out, the outside file untouched
    assert secret["is_error"] and "outside the repository" in secret["content"]
    assert overwrite["is_error"] and climb["is_error"]
    assert (tmp_path / "outside.txt").read_text() == "outside secret\n"


def test_written_files_stay_when_more_files_are_checked_out(lazy: Workspace) -> None:
    # GIVEN a new file Claude created in a new directory, already staged once
    box = tool_box(lazy)
    call(box, command="create", path="tools/new_tool.py", file_text="x = 1\n")
    assert [f.path for f in stage(lazy).files] == ["tools/new_tool.py"]

    # WHEN more files are checked out afterwards (the sparse patterns are applied again)
    call(box, command="view", path="pkg01/module_0001.py")

    # THEN the new file is still on disk and still in the patch
    assert (lazy.path / "tools/new_tool.py").read_text() == "x = 1\n"
    assert [f.path for f in stage(lazy).files] == ["tools/new_tool.py"]


def test_names_with_pattern_characters_check_out_only_themselves(make_repo: MakeRepo) -> None:
    # GIVEN files whose names are wildcards for each other
    names = ["odd/a[1] *.txt", "odd/a1 x.txt", "odd/!bang #.txt", "odd/back\\slash.txt"]
    origin = make_repo("odd", {"README.md": "x\n", **{name: f"{name}\n" for name in names}})
    with checkout(str(origin), lazy=True) as workspace:
        box = tool_box(workspace)
        for name in names[::2]:
            # WHEN one is viewed
            assert name in call(box, command="view", path=name)["content"]
        # THEN exactly the viewed ones are on disk
        assert on_disk(workspace.path) == {"README.md", names[0], names[2]}


def test_a_name_no_pattern_can_match_checks_out_everything(make_repo: MakeRepo) -> None:
    # GIVEN a file with a newline in its name
    origin = make_repo("newline", {"README.md": "x\n", "odd/new\nline.txt": "hello\n", "other/b.txt": "b\n"})
    with checkout(str(origin), lazy=True) as workspace:
        # WHEN it is viewed THEN it is shown, the workspace having been checked out in full
        assert "hello" in call(tool_box(workspace), command="view", path="odd/new\nline.txt")["content"]
        assert not workspace.sparse and (workspace.path / "other/b.txt").exists()


def test_commands_and_checks_see_the_whole_tree(lazy: Workspace) -> None:
    # GIVEN a lazy workspace with a command tool
    box = tool_box(lazy, allow_commands=True)

    # WHEN Claude runs a command, and the check command runs
    result = box.run({"type": "tool_use", "id": "t", "name": "bash", "input": {"command": "cat pkg42/module_0042.py"}})
    check = run_check(sandboxed_runner(30), lazy, "test -f pkg49/module_1999.py")

    # THEN both see files never touched before; the tree is complete and clean
    assert "return 42" in result["content"] and check.passed
    assert len(on_disk(lazy.path)) == 2002
    assert git(lazy.path, "status", "--porcelain") == ""


def test_expanding_a_repository_over_the_size_cap_fails_clearly(make_repo: MakeRepo) -> None:
    # GIVEN a repository of about 200 KB, most of it below the root
    origin = make_repo("heavy", {"README.md": "x\n", "data/blob.bin": os.urandom(200_000)})
    # WHEN it is cloned lazily under a 100 KB cap THEN the clone works (the blob stays off disk)
    with checkout(str(origin), lazy=True, max_bytes=100_000) as workspace:
        # AND checking out everything is refused with the size error
        with pytest.raises(WorkspaceError) as caught:
            workspace.expand()
        assert caught.value.kind == "REPOSITORY_TOO_LARGE"
        assert not (workspace.path / "data").exists()

"""The text editor tool and its sandbox, through the tool box as the loop calls it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.unit.agent.conftest import MakeRepo
from worker.agent.text_editor import MAX_EDIT_BYTES, MAX_VIEW_CHARS
from worker.agent.tools import ToolBox
from worker.lazy_files import LazyFiles
from worker.workspace import clone


def call(box: ToolBox, **tool_input: Any) -> dict[str, Any]:
    return box.run({"type": "tool_use", "id": "toolu_1", "name": "str_replace_based_edit_tool", "input": tool_input})


@pytest.fixture(params=["plain directory", "lazy checkout"])
def lazy(request: pytest.FixtureRequest, make_repo: MakeRepo, tmp_path: Path) -> tuple[Path, LazyFiles | None]:
    """Every test runs on a plain directory and on a lazy clone (only root files on disk at first)."""
    origin = make_repo(
        "sandbox",
        {
            "app.py": "one\ntwo\nthree\n",
            "pkg/mod.py": "x = 1\nx = 1\n",
            "pkg/deep/deeper/far.py": "far\n",
            ".hidden": "secret\n",
        },
    )
    if request.param == "plain directory":
        return origin, None
    (tmp_path / "lazy").mkdir()
    workspace = clone(str(origin), tmp_path / "lazy" / "repo", lazy=True)
    assert not (workspace.path / "pkg").exists()
    return workspace.path, LazyFiles(lambda: workspace)


@pytest.fixture
def repo(lazy: tuple[Path, LazyFiles | None]) -> Path:
    return lazy[0]


@pytest.fixture
def box(lazy: tuple[Path, LazyFiles | None]) -> ToolBox:
    return ToolBox(lazy[0], files=lazy[1])


def test_view_file_numbers_lines_and_honours_view_range(box: ToolBox) -> None:
    # WHEN viewing a file whole and in part
    whole = call(box, command="view", path="app.py")
    part = call(box, command="view", path="app.py", view_range=[2, -1])

    # THEN lines are numbered, the range starts at line 2 and runs to the end
    assert whole["content"].splitlines()[0] == "     1\tone"
    assert part["content"].splitlines()[0] == "     2\ttwo"
    assert part["content"].splitlines()[-1] == "     4\t"
    assert "is_error" not in whole


def test_view_directory_lists_two_levels_without_hidden_or_git(box: ToolBox, repo: Path) -> None:
    # WHEN viewing the repository root
    listing = call(box, command="view", path=".")["content"].splitlines()

    # THEN it shows two levels, no hidden files, no .git
    assert "app.py" in listing and "pkg/" in listing and "pkg/mod.py" in listing and "pkg/deep/" in listing
    assert "pkg/deep/deeper/" not in listing
    assert not any(".git" in line or ".hidden" in line for line in listing[1:])


def test_absolute_path_inside_the_repository_is_allowed(box: ToolBox, repo: Path) -> None:
    # WHEN viewing by absolute path inside the workspace THEN it works
    assert "one" in call(box, command="view", path=str(repo / "app.py"))["content"]


def test_str_replace_needs_exactly_one_match(box: ToolBox, repo: Path) -> None:
    # WHEN replacing text that is missing, repeated, and unique
    missing = call(box, command="str_replace", path="app.py", old_str="four", new_str="4")
    repeated = call(box, command="str_replace", path="pkg/mod.py", old_str="x = 1", new_str="x = 2")
    unique = call(box, command="str_replace", path="app.py", old_str="two", new_str="TWO")

    # THEN the first two are errors naming the problem; the third edits the file
    assert missing["is_error"] and "did not appear verbatim" in missing["content"]
    assert repeated["is_error"] and "occurs 2 times" in repeated["content"] and "[1, 2]" in repeated["content"]
    assert (repo / "pkg/mod.py").read_text() == "x = 1\nx = 1\n"
    assert (repo / "app.py").read_text() == "one\nTWO\nthree\n"
    assert "     2\tTWO" in unique["content"]


def test_insert_at_top_and_after_a_line(box: ToolBox, repo: Path) -> None:
    # WHEN inserting at line 0 and after line 2
    call(box, command="insert", path="app.py", insert_line=0, new_str="zero")
    call(box, command="insert", path="app.py", insert_line=2, new_str="one and a half")
    bad = call(box, command="insert", path="app.py", insert_line=99, new_str="x")

    # THEN the lines land in place and an out-of-range line is an error
    assert (repo / "app.py").read_text() == "zero\none\none and a half\ntwo\nthree\n"
    assert bad["is_error"] and "insert_line" in bad["content"]


def test_create_makes_parent_directories(box: ToolBox, repo: Path) -> None:
    # WHEN creating a file in a new directory
    result = call(box, command="create", path="docs/guide.md", file_text="# Guide\n")

    # THEN it exists with that content
    assert (repo / "docs/guide.md").read_text() == "# Guide\n"
    assert "created" in result["content"]


@pytest.mark.parametrize(
    "path",
    ["../outside.txt", "pkg/../../outside.txt", "/tmp/outside.txt", "/etc/passwd"],
)
def test_paths_outside_the_repository_are_refused(box: ToolBox, repo: Path, path: str) -> None:
    # WHEN reading or writing outside the workspace
    read = call(box, command="view", path=path)
    write = call(box, command="create", path=path, file_text="pwned")

    # THEN both are refused as tool errors and nothing is written
    assert read["is_error"] and "outside the repository" in read["content"]
    assert write["is_error"]
    assert not (repo.parent / "outside.txt").exists()


@pytest.mark.parametrize("target", ["/etc", "/"])
def test_symlinks_resolving_outside_are_refused(box: ToolBox, repo: Path, target: str) -> None:
    # GIVEN a symlink in the repository pointing outside it
    (repo / "link").symlink_to(target)

    # WHEN reading through it or writing through it
    read = call(box, command="view", path="link/passwd" if target == "/etc" else "link/etc/passwd")
    listing = call(box, command="view", path="link")
    write = call(box, command="create", path="link/cody-batch-escape.txt", file_text="x")

    # THEN every access is refused
    assert read["is_error"] and listing["is_error"] and write["is_error"]
    assert not Path(target, "cody-batch-escape.txt").exists()


def test_symlink_to_a_file_outside_is_refused(box: ToolBox, repo: Path, tmp_path: Path) -> None:
    # GIVEN a link to a file outside the workspace
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (repo / "innocent.py").symlink_to(secret)

    # WHEN Claude edits it THEN it is refused and the outside file is unchanged
    result = call(box, command="str_replace", path="innocent.py", old_str="top", new_str="no")
    assert result["is_error"]
    assert secret.read_text() == "top secret"


@pytest.mark.parametrize("path", [".git/config", ".git/hooks/pre-commit", "pkg/../.git/HEAD", ".git"])
def test_git_directory_is_off_limits(box: ToolBox, repo: Path, path: str) -> None:
    # WHEN Claude tries to write (or read) under .git
    write = call(box, command="create", path=path, file_text="[core]\nhooksPath=/tmp\n")
    read = call(box, command="view", path=path)

    # THEN both are refused and .git/config is untouched
    assert write["is_error"] and ".git" in write["content"]
    assert read["is_error"]
    assert "hooksPath" not in (repo / git(repo, "rev-parse", "--git-path", "config").strip()).read_text()


def test_binary_files_are_refused_with_a_clear_message(box: ToolBox, repo: Path) -> None:
    # GIVEN a binary file
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")

    # WHEN viewing or editing it THEN the tool says it is binary and leaves it alone
    result = call(box, command="view", path="logo.png")
    edit = call(box, command="str_replace", path="logo.png", old_str="PNG", new_str="GIF")
    assert result["is_error"] and "binary" in result["content"]
    assert edit["is_error"]
    assert (repo / "logo.png").read_bytes().startswith(b"\x89PNG")


def test_large_file_view_is_truncated_with_a_note_and_huge_files_refused(box: ToolBox, repo: Path) -> None:
    # GIVEN a long text file and one over the size cap
    (repo / "long.txt").write_text("line of text\n" * 10_000)
    (repo / "huge.txt").write_text("x" * (MAX_EDIT_BYTES + 1))

    # WHEN viewing both
    long_view = call(box, command="view", path="long.txt")
    huge_view = call(box, command="view", path="huge.txt")

    # THEN the long one is cut with a note; the huge one is refused
    assert len(long_view["content"]) < MAX_VIEW_CHARS + 500
    assert "truncated" in long_view["content"] and "view_range" in long_view["content"]
    assert huge_view["is_error"] and "larger than" in huge_view["content"]


def test_read_only_allows_only_view(repo: Path) -> None:
    # GIVEN an analysis tool box
    box = ToolBox(repo, read_only=True)

    # WHEN Claude views and then tries to edit
    viewed = call(box, command="view", path="app.py")
    edited = call(box, command="str_replace", path="app.py", old_str="one", new_str="1")

    # THEN view works, the edit is refused, and there is no bash tool even if commands are on
    assert "is_error" not in viewed
    assert edited["is_error"] and "read-only" in edited["content"]
    assert (repo / "app.py").read_text().startswith("one")
    assert [tool["name"] for tool in ToolBox(repo, read_only=True, allow_commands=True).definitions] == [
        "str_replace_based_edit_tool"
    ]


def test_unknown_tool_and_bad_input_are_errors_not_exceptions(box: ToolBox) -> None:
    # WHEN Claude calls a tool that does not exist, or sends nonsense
    unknown = box.run({"type": "tool_use", "id": "t", "name": "bash", "input": {"command": "ls"}})
    nonsense = box.run({"type": "tool_use", "id": "t", "name": "str_replace_based_edit_tool", "input": "view"})
    no_command = call(box, path="app.py")

    # THEN each is a tool_result error
    assert unknown["is_error"] and "no tool named 'bash'" in unknown["content"]
    assert nonsense["is_error"] and no_command["is_error"]


def test_non_utf8_text_is_viewable_but_not_editable(box: ToolBox, repo: Path) -> None:
    # GIVEN a Latin-1 file
    (repo / "legacy.txt").write_bytes("caf\xe9\n".encode("latin-1"))

    # WHEN viewing and editing it
    viewed = call(box, command="view", path="legacy.txt")
    edited = call(box, command="str_replace", path="legacy.txt", old_str="caf", new_str="tea")

    # THEN it can be read (with a replacement character) but not rewritten
    assert "caf\ufffd" in viewed["content"] and "is_error" not in viewed
    assert edited["is_error"] and "UTF-8" in edited["content"]
    assert (repo / "legacy.txt").read_bytes() == b"caf\xe9\n"


def test_a_nul_in_the_path_is_a_tool_error(box: ToolBox) -> None:
    # WHEN the path holds a NUL byte THEN the answer is an error result, not a crash
    assert call(box, command="view", path="app.py\0.txt")["is_error"]


def test_str_replace_without_new_str_deletes(make_repo: MakeRepo) -> None:
    # GIVEN a file / WHEN Claude replaces with an empty, a null and an absent new_str (all mean "delete")
    repo = make_repo("delete", {"app.py": "keep\ndrop one\ndrop two\ndrop three\n"})
    box = ToolBox(repo)
    results = [
        call(box, command="str_replace", path="app.py", old_str="drop one\n", new_str=""),
        call(box, command="str_replace", path="app.py", old_str="drop two\n", new_str=None),
        call(box, command="str_replace", path="app.py", old_str="drop three\n"),
    ]
    # THEN each is a successful deletion
    assert not any(result.get("is_error") for result in results)
    assert (repo / "app.py").read_text() == "keep\n"

"""The file tools' confinement: every path resolved for real inside the workspace, never into .git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from worker.agent.sandbox import ToolError, Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / ".git").mkdir()
    (tmp_path / "repo-evil").mkdir()
    return Workspace(root)


@pytest.mark.parametrize(
    ("raw", "relative"),
    [("src/app.py", "src/app.py"), ("src/../src/app.py", "src/app.py"), ("./src//app.py", "src/app.py"), (".", ".")],
)
def test_paths_inside_resolve_to_the_real_file_and_display_relative(
    workspace: Workspace, raw: str, relative: str
) -> None:
    real = workspace.resolve(raw)
    assert real == (workspace.root / relative).resolve()
    assert workspace.display(real) == relative


def test_an_absolute_path_inside_and_the_root_itself_are_allowed(workspace: Workspace) -> None:
    assert workspace.resolve(str(workspace.root / "src" / "app.py")) == workspace.root / "src" / "app.py"
    assert workspace.resolve(str(workspace.root)) == workspace.root
    assert workspace.display(workspace.root) == "."


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "A non-empty `path` is required."),
        (None, "A non-empty `path` is required."),
        (7, "A non-empty `path` is required."),
        ("src/\0app.py", "The path contains a NUL character."),
        ("../repo-evil/x", "Access denied: ../repo-evil/x is outside the repository."),
        ("..", "Access denied: .. is outside the repository."),
        ("/etc/passwd", "Access denied: /etc/passwd is outside the repository."),
        (".git/config", "Access denied: .git/config is inside .git, which the tools may not read or write."),
        (".git", "Access denied: .git is inside .git, which the tools may not read or write."),
        ("src/.git/../app.py", "Access denied: src/.git/../app.py is inside .git"),
        (
            "src/.GIT/x",
            "Refused: 'src/.GIT/x' has a component '.GIT' that git treats as .git (on Windows or macOS it "
            "names the repository's git directory), so git would not store it. Choose another name.",
        ),
        ("src/.GIT/../app.py", "Refused: 'src/.GIT/../app.py' has a component '.GIT'"),
    ],
)
def test_paths_outside_empty_or_into_git_are_tool_errors(workspace: Workspace, raw: Any, message: str) -> None:
    with pytest.raises(ToolError) as refused:
        workspace.resolve(raw)
    assert str(refused.value).startswith(message)


def test_names_are_taken_exactly_as_given(workspace: Workspace) -> None:
    # Leading and trailing spaces are part of a file name, not noise to strip.
    assert workspace.resolve(" app.py ") == workspace.root / " app.py "


def test_a_sibling_directory_sharing_the_root_name_is_outside(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="outside the repository"):
        workspace.resolve(str(tmp_path / "repo-evil"))


def test_a_symlink_into_git_is_inside_git(workspace: Workspace) -> None:
    (workspace.root / "gitlink").symlink_to(".git")
    with pytest.raises(ToolError) as refused:
        workspace.resolve("gitlink/config")
    assert str(refused.value) == "Access denied: gitlink/config is inside .git, which the tools may not read or write."

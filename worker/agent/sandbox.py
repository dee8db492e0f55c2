"""Confinement of the agent's file tools to the workspace: real paths, no escapes, no .git."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from worker.git_names import git_name_in


class ToolError(Exception):
    """A tool call that cannot be done; its message goes back to Claude as an error result."""


class Workspace:
    """The repository checkout the agent may touch, addressed by paths relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve(strict=True)

    def resolve(self, raw: str) -> Path:
        """The real path for `raw` (relative to the root, or absolute inside it); ToolError if outside."""
        if not isinstance(raw, str) or not raw:
            raise ToolError("A non-empty `path` is required.")
        if "\0" in raw:
            raise ToolError("The path contains a NUL character.")
        given = PurePosixPath(raw)  # exactly as given: leading and trailing spaces are part of a name
        candidate = Path(given) if given.is_absolute() else self.root / given
        # resolve() follows every symlink, so a link pointing outside lands outside and is refused.
        real = candidate.resolve(strict=False)
        if real != self.root and not real.is_relative_to(self.root):
            raise ToolError(f"Access denied: {raw} is outside the repository.")
        relative = real.relative_to(self.root)
        if ".git" in relative.parts or ".git" in given.parts:
            raise ToolError(f"Access denied: {raw} is inside .git, which the tools may not read or write.")
        # Variants git refuses to store (.GIT, .git., git~1, ...): a file there would fail the patch.
        variant = git_name_in(relative.parts) or git_name_in(given.parts)
        if variant is not None:
            raise ToolError(
                f"Refused: {raw!r} has a component {variant!r} that git treats as .git (on Windows or macOS it "
                "names the repository's git directory), so git would not store it. Choose another name."
            )
        return real

    def display(self, path: Path) -> str:
        """How a real path inside the workspace is shown to Claude: relative, or '.' for the root."""
        relative = path.relative_to(self.root)
        return relative.as_posix() if relative.parts else "."

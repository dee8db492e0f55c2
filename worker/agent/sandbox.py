"""Confinement of the agent's file tools to the workspace: real paths, no escapes, no .git."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class ToolError(Exception):
    """A tool call that cannot be done; its message goes back to Claude as an error result."""


class Workspace:
    """The repository checkout the agent may touch, addressed by paths relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve(strict=True)

    def resolve(self, raw: str) -> Path:
        """The real path for `raw` (relative to the root, or absolute inside it); ToolError if outside."""
        if not isinstance(raw, str) or not raw.strip():
            raise ToolError("A non-empty `path` is required.")
        if "\0" in raw:
            raise ToolError("The path contains a NUL character.")
        given = PurePosixPath(raw.strip())
        candidate = Path(given) if given.is_absolute() else self.root / given
        # resolve() follows every symlink, so a link pointing outside lands outside and is refused.
        real = candidate.resolve(strict=False)
        if real != self.root and not real.is_relative_to(self.root):
            raise ToolError(f"Access denied: {raw} is outside the repository.")
        relative = real.relative_to(self.root)
        if ".git" in relative.parts or ".git" in given.parts:
            raise ToolError(f"Access denied: {raw} is inside .git, which the tools may not read or write.")
        return real

    def display(self, path: Path) -> str:
        """How a real path inside the workspace is shown to Claude: relative, or '.' for the root."""
        relative = path.relative_to(self.root)
        return relative.as_posix() if relative.parts else "."

"""Anthropic's text editor tool (`text_editor_20250728`), implemented on the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from worker.agent.sandbox import ToolError, Workspace

MAX_VIEW_CHARS = 60_000  # what one view returns; larger files are truncated with a note
MAX_EDIT_BYTES = 2_000_000  # files larger than this are not read or written
MAX_LISTING_ENTRIES = 1_000
SNIPPET_CONTEXT = 4


def numbered(lines: list[str], first: int) -> str:
    """Lines with right-aligned line numbers, the format Claude is trained on."""
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, start=first))


class OnDemandFiles(Protocol):
    """A checkout whose tracked files reach the disk only when a tool touches them."""

    def materialize(self, raw: str, *, keep: bool = False) -> None:
        """Check out what `raw` names (following symlinks); `keep` a path about to be written."""

    def tracked_dir(self, rel: str) -> bool:
        """Whether `rel` is a directory of tracked files (on disk or not)."""

    def listing(self, rel: str) -> dict[str, bool]:
        """Tracked entries two levels under directory `rel`: relative name -> is a directory."""

    def expand(self) -> None:
        """Check out every file (a command may read any of them)."""


class TextEditorTool:
    """`view`, `create`, `str_replace` and `insert` confined to one workspace.

    With `files`, tracked files not yet on disk are checked out before they are touched and
    listed from the index; without, the tool works on the plain directory.
    """

    name = "str_replace_based_edit_tool"
    # max_characters tells Claude how much one `view` shows; `view` truncates at the same point.
    definition: dict[str, Any] = {"type": "text_editor_20250728", "name": name, "max_characters": MAX_VIEW_CHARS}

    def __init__(self, workspace: Workspace, read_only: bool = False, files: OnDemandFiles | None = None) -> None:
        self.workspace = workspace
        self.read_only = read_only
        self.files = files

    def __call__(self, tool_input: dict[str, Any]) -> str:
        """Run one command; ToolError carries any refusal back to Claude."""
        command = tool_input.get("command")
        handlers = {"view": self.view, "create": self.create, "str_replace": self.str_replace, "insert": self.insert}
        if command not in handlers:
            raise ToolError(f"Unknown command {command!r}; use one of: {', '.join(handlers)}.")
        if self.read_only and command != "view":
            raise ToolError("This is a read-only analysis: only the `view` command is available.")
        raw = tool_input.get("path", "")
        path = self.workspace.resolve(raw)  # refuses escapes before anything is checked out
        if self.files is not None:
            self.files.materialize(raw, keep=command != "view")
            path = self.workspace.resolve(raw)  # a symlink checked out just now may point elsewhere
        return handlers[command](path, tool_input)

    def _is_dir(self, path: Path) -> bool:
        if path.is_dir():
            return True
        return self.files is not None and self.files.tracked_dir(self.workspace.display(path))

    # -- reading -----------------------------------------------------------------------------

    def _read(self, path: Path, for_edit: bool = True) -> str:
        if not path.exists() and not self._is_dir(path):
            raise ToolError(f"The path {self.workspace.display(path)} does not exist.")
        if not path.is_file():
            raise ToolError(f"{self.workspace.display(path)} is not a regular file.")
        if path.stat().st_size > MAX_EDIT_BYTES:
            raise ToolError(
                f"{self.workspace.display(path)} is larger than {MAX_EDIT_BYTES} bytes; it cannot be edited here."
            )
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            raise ToolError(f"{self.workspace.display(path)} is a binary file; the editor only handles text.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            if not for_edit:  # readable with replacement characters, but never rewritten that way
                return data.decode("utf-8", errors="replace")
            shown = self.workspace.display(path)
            raise ToolError(f"{shown} is not UTF-8 text; the editor only handles text.") from None

    def view(self, path: Path, tool_input: dict[str, Any]) -> str:
        """A numbered file (optionally a line range), or a directory listing two levels deep."""
        if self._is_dir(path):
            return self._listing(path)
        lines = self._read(path, for_edit=False).split("\n")
        first, last = 1, len(lines)
        view_range = tool_input.get("view_range")
        if view_range is not None:
            first, last = self._range(view_range, len(lines))
        text = numbered(lines[first - 1 : last], first)
        if len(text) > MAX_VIEW_CHARS:
            text = text[:MAX_VIEW_CHARS] + (
                f"\n<NOTE>The file is too long to show at once; output was truncated after {MAX_VIEW_CHARS} "
                "characters. Use `view_range` to see the rest.</NOTE>"
            )
        return text

    def _range(self, view_range: object, count: int) -> tuple[int, int]:
        if not (isinstance(view_range, list) and len(view_range) == 2 and all(isinstance(v, int) for v in view_range)):
            raise ToolError("`view_range` must be a list of two integers [start, end].")
        first, last = view_range
        last = count if last == -1 else last
        if not 1 <= first <= count or not first <= last <= count:
            raise ToolError(f"Invalid `view_range` {view_range}: the file has {count} lines (use -1 for the end).")
        return first, last

    def _listing(self, directory: Path) -> str:
        found = self.files.listing(self.workspace.display(directory)) if self.files is not None else {}
        if directory.is_dir():
            found.update(self._on_disk(directory))  # what is on disk wins (a symlink to a directory)
        visible = [name for name in found if not any(part.startswith(".") for part in name.split("/"))]
        entries = [name + ("/" if found[name] else "") for name in sorted(visible, key=lambda n: n.split("/"))]
        shown = entries[:MAX_LISTING_ENTRIES]
        shown_dir = self.workspace.display(directory)
        header = f"Files and directories up to 2 levels deep in {shown_dir}, hidden items excluded:"
        more = [f"... and {len(entries) - len(shown)} more entries"] if len(entries) > len(shown) else []
        return "\n".join([header, *shown, *more])

    @staticmethod
    def _on_disk(directory: Path) -> dict[str, bool]:
        """Entries two levels deep (relative name -> is a directory), hidden ones not descended."""
        found: dict[str, bool] = {}
        for child in directory.iterdir():
            found[child.name] = child.is_dir()
            # Never descend through a symlink (it could list names outside the workspace) or into hidden dirs.
            if child.is_dir() and not child.is_symlink() and not child.name.startswith("."):
                found.update({f"{child.name}/{grand.name}": grand.is_dir() for grand in child.iterdir()})
        return found

    # -- writing -----------------------------------------------------------------------------

    def create(self, path: Path, tool_input: dict[str, Any]) -> str:
        """Write a new file (or overwrite one) with `file_text`, creating parent directories."""
        text = tool_input.get("file_text")
        if not isinstance(text, str):
            raise ToolError("`file_text` is required for `create`.")
        if self._is_dir(path):
            raise ToolError(f"{self.workspace.display(path)} is a directory.")
        existed = path.exists()
        if existed:
            self._read(path)  # refuses binary and huge files
        self._write(path, text)
        verb = "overwritten" if existed else "created"
        return f"File {self.workspace.display(path)} {verb} successfully."

    def str_replace(self, path: Path, tool_input: dict[str, Any]) -> str:
        """Replace the one occurrence of `old_str` with `new_str`."""
        # An absent or null new_str deletes old_str, as in Anthropic's reference implementation; any
        # other value that is not a string (an empty list, 0) is refused, never taken for a deletion.
        old, new = tool_input.get("old_str"), tool_input.get("new_str")
        new = "" if new is None else new
        if not isinstance(old, str) or not old:
            raise ToolError("`old_str` is required for `str_replace` and must not be empty.")
        if not isinstance(new, str):
            raise ToolError("`new_str` must be a string.")
        content = self._read(path)
        count = content.count(old)
        shown = self.workspace.display(path)
        if count == 0:
            raise ToolError(f"No replacement was performed: old_str did not appear verbatim in {shown}.")
        if count > 1:
            starts = [i for i in range(len(content)) if content.startswith(old, i)]
            lines = [content.count("\n", 0, i) + 1 for i in starts]
            raise ToolError(
                f"No replacement was performed: old_str occurs {count} times in {shown} (lines {lines}). "
                "Include more context so that it is unique."
            )
        start_line = content.count("\n", 0, content.index(old)) + 1
        updated = content.replace(old, new, 1)
        self._write(path, updated)
        return f"The file {shown} has been edited. " + self._snippet(updated, start_line, new.count("\n") + 1)

    def insert(self, path: Path, tool_input: dict[str, Any]) -> str:
        """Insert `new_str` after line `insert_line` (0 puts it at the top)."""
        line, new = tool_input.get("insert_line"), tool_input.get("new_str")
        if not isinstance(new, str):
            raise ToolError("`new_str` is required for `insert`.")
        lines = self._read(path).split("\n")
        if not isinstance(line, int) or not 0 <= line <= len(lines):
            raise ToolError(f"Invalid `insert_line` {line!r}: it must be between 0 and {len(lines)}.")
        new_lines = new.split("\n")
        updated = "\n".join([*lines[:line], *new_lines, *lines[line:]])
        self._write(path, updated)
        return f"The file {self.workspace.display(path)} has been edited. " + self._snippet(
            updated, line + 1, len(new_lines)
        )

    def _write(self, path: Path, text: str) -> None:
        data = text.encode("utf-8")
        if len(data) > MAX_EDIT_BYTES:
            raise ToolError(f"Refusing to write more than {MAX_EDIT_BYTES} bytes to one file.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def _snippet(self, content: str, first_line: int, count: int) -> str:
        lines = content.split("\n")
        start = max(1, first_line - SNIPPET_CONTEXT)
        end = min(len(lines), first_line + count - 1 + SNIPPET_CONTEXT)
        return "Here is the changed region, with line numbers:\n" + numbered(lines[start - 1 : end], start)

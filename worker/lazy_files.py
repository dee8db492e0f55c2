"""The file tools' view of a lazy (sparse) workspace: files are checked out when first touched."""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from worker.git_names import git_name_in
from worker.workspace import Workspace

MAX_LINK_HOPS = 40  # as the kernel's limit on symlinks followed in one lookup


class LazyFiles:
    """Tracked files of a sparse workspace: check them out on demand, list them from the index.

    Once the workspace is expanded (a command needs every file) this is a pass-through.
    """

    def __init__(self, workspace: Callable[[], Workspace]) -> None:
        # A callable: the clone may still be running when the tools are set up.
        self._workspace = workspace
        self._modes: dict[str, str] | None = None
        self._paths: list[str] = []
        self._kept: set[str] = set()

    @property
    def active(self) -> bool:
        """Whether files are still checked out on demand."""
        return self._workspace().sparse

    def materialize(self, raw: str, *, keep: bool = False) -> None:
        """Check out the tracked entries on the real path of `raw`, following symlinks.

        With `keep` the final path stays in the checkout even if it is not tracked (a file
        about to be written), so that later pattern changes never remove it.
        """
        if not self.active:
            return
        workspace = self._workspace()
        root = workspace.path.resolve()
        final = self._walk(root, _relative_parts(raw, root))
        rel = _inside(final, root)
        if rel is None or "/" not in rel or rel in self._kept or self.tracked_dir(rel) or final.is_dir():
            return  # outside, a root file (always checked out), done already, or a directory
        if keep or rel in self._index():
            self._include([rel])

    def tracked_dir(self, rel: str) -> bool:
        """Whether the index holds files under the directory `rel`."""
        if rel in ("", "."):
            return True
        self._index()
        prefix = rel + "/"
        at = bisect_left(self._paths, prefix)
        return at < len(self._paths) and self._paths[at].startswith(prefix)

    def listing(self, rel: str) -> dict[str, bool]:
        """Tracked entries up to two levels under directory `rel` (relative name -> is a directory)."""
        if not self.active:
            return {}
        self._index()
        prefix = "" if rel in ("", ".") else rel + "/"
        entries: dict[str, bool] = {}
        for path in self._paths[bisect_left(self._paths, prefix) :]:
            if not path.startswith(prefix):
                break
            parts = path[len(prefix) :].split("/")
            entries[parts[0]] = len(parts) > 1
            if len(parts) > 1:
                entries[f"{parts[0]}/{parts[1]}"] = len(parts) > 2
        return entries

    def expand(self) -> None:
        """Check out every file, once (before the first command runs)."""
        self._workspace().expand()

    # -- internals ---------------------------------------------------------------------------

    def _walk(self, root: Path, parts: deque[str]) -> Path:
        """Follow `parts` from the root like the kernel would, checking out tracked entries met on the way."""
        current, hops = root, 0
        while parts:
            part = parts.popleft()
            if part in ("", "."):
                continue
            current = current.parent if part == ".." else current / part
            rel = _inside(current, root)
            if rel is not None and not os.path.lexists(current) and rel in self._index():
                self._include([rel])
            if os.path.islink(current):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    break
                target = PurePosixPath(os.readlink(current))
                current = Path("/") if target.is_absolute() else current.parent
                parts.extendleft(reversed([p for p in target.parts if p != "/"]))
        return current

    def _index(self) -> dict[str, str]:
        """Tracked path -> mode, read once (files the tools add later are on disk anyway)."""
        if self._modes is None:
            out = self._workspace().git("ls-files", "--stage", "-z")
            self._modes = {}
            for entry in out.split("\0"):
                if entry:
                    meta, path = entry.split("\t", 1)
                    self._modes[path] = meta.split(" ", 1)[0]
            self._paths = sorted(self._modes)
        return self._modes

    def _include(self, paths: list[str]) -> None:
        self._workspace().include(paths)
        self._kept.update(paths)


def _relative_parts(raw: str, root: Path) -> deque[str]:
    """The components of `raw` relative to the root (absolute paths inside it are made relative)."""
    given = PurePosixPath(raw)
    if given.is_absolute():
        if not given.is_relative_to(root):
            return deque()  # refused by the sandbox anyway
        given = given.relative_to(root)
    return deque(given.parts)


def _inside(path: Path, root: Path) -> str | None:
    """`path` relative to the root as posix text, or None outside the root or inside .git (or a variant)."""
    if not path.is_relative_to(root):
        return None
    rel = path.relative_to(root)
    return None if git_name_in(rel.parts) is not None else rel.as_posix()

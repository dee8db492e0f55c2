"""Names git itself treats as `.git`, so that the tools refuse them before git does.

git refuses to store a path with such a component (core.protectNTFS and core.protectHFS):
on Windows and macOS each one names the repository's own git directory. The rules are
git's own (`is_ntfs_dotgit`, `is_hfs_dotgit` and `verify_dotfile` in its sources).
"""

from __future__ import annotations

import re

# NTFS: `.git` or its 8.3 short name `git~1`, any case, then only dots and spaces (which
# NTFS drops), optionally followed by `:` (an alternate data stream such as `::$INDEX_ALLOCATION`).
_NTFS_DOTGIT = re.compile(r"(?:\.git|git~1)[. ]*(?::.*)?", re.IGNORECASE | re.DOTALL)
# HFS+: code points it ignores when comparing names (zero-width joiners, direction marks, BOM).
_HFS_IGNORED = dict.fromkeys([*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])


def is_git_name(component: str) -> bool:
    """Whether git treats this one path component as `.git` (and so refuses to add it)."""
    # git also splits on backslashes here, the path separator on Windows.
    if any(_NTFS_DOTGIT.fullmatch(piece) for piece in component.split("\\")):
        return True
    return component.translate(_HFS_IGNORED).lower() == ".git"


def git_name_in(parts: tuple[str, ...]) -> str | None:
    """The first component of `parts` git treats as `.git`, or None."""
    return next((part for part in parts if is_git_name(part)), None)

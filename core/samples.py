"""Sample repositories in the data dir: what a new user can try a first job on."""

from __future__ import annotations

from core.locations import is_allowed
from core.settings import Settings


def list_samples(settings: Settings) -> list[str]:
    """Absolute paths of the git repositories in the data dir's samples/ that the allowlist admits."""
    root = settings.samples_dir
    if not root.is_dir():
        return []
    found = sorted(str(p) for p in root.iterdir() if p.is_dir() and (p / ".git").exists())
    return [path for path in found if is_allowed(path, settings.allowlist)]

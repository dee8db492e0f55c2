"""docs/RELIABILITY.md names only tests that exist: a renamed or removed test leaves no row pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "RELIABILITY.md"
# `tests/x.py`, `tests/x.py::test_y`, or `::test_z` (another test of the file named before it in the row).
REFERENCE = re.compile(r"`((?:tests|frontend)/[^`:]+)(?:::(\w+))?`|`::(\w+)`")


def _missing_references() -> list[str]:
    missing = []
    for row in DOC.read_text().splitlines():
        path: Path | None = None
        for match in REFERENCE.finditer(row):
            if match.group(1):
                path = ROOT / match.group(1)
                if not path.is_file():
                    missing.append(match.group(1))
                    continue
            name = match.group(2) or match.group(3)
            if name and (path is None or f"def {name}(" not in path.read_text()):
                missing.append(f"{path.relative_to(ROOT) if path else '?'}::{name}")
    return missing


def test_every_test_the_fault_matrix_names_exists() -> None:
    # GIVEN the fault matrix WHEN each test file and test it names is looked up THEN each is there
    assert DOC.read_text().count("`tests/") > 20
    assert _missing_references() == []

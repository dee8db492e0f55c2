"""RunErrorKind and the README's table of failure kinds name the same kinds."""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import RunErrorKind

README = Path(__file__).resolve().parents[3] / "README.md"


def test_every_kind_in_the_readme_table_is_an_enum_member_and_back() -> None:
    # GIVEN the README's "When a run fails" table
    section = README.read_text().split("## When a run fails", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| step")]
    assert len(table) >= 8
    # WHEN its kinds are read
    cells = [re.sub(r"\([^()]*\)", "", line.split("|")[2]) for line in table]  # explanations in parentheses
    documented = {kind for cell in cells for kind in re.findall(r"`([A-Z][A-Z_]+)`", cell)}
    # THEN they are exactly the enum's, whose values are their names (what JSON clients see)
    assert documented == {kind.value for kind in RunErrorKind}
    assert all(kind.name == kind.value for kind in RunErrorKind)

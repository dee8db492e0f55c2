"""Python's import-time report (PYTHONPROFILEIMPORTTIME=1): the modules a process imported, read from its stderr."""

from __future__ import annotations

import re

IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def imported(report: str) -> list[str]:
    """Module names in an import-time report, in the order they were imported."""
    return IMPORT_LINE.findall(report)

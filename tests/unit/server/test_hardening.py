"""Worker and server processes become non-dumpable, so commands cannot read their keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = (
    "from server.hardening import make_undumpable, is_dumpable\n"
    "before = is_dumpable()\n"
    "took = make_undumpable()\n"
    "print(before, took, is_dumpable())\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_a_process_that_hardens_itself_is_no_longer_dumpable() -> None:
    # GIVEN a fresh Python process WHEN it calls make_undumpable
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    # THEN it was dumpable before and is not after
    assert out.split() == ["True", "True", "False"]

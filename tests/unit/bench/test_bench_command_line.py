"""Every benchmark answers `--help` with its usage and nothing else: no measurement, no rewritten figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "PERFORMANCE.md"
BENCHMARKS = sorted(p.name for p in (ROOT / "bench").glob("*_bench.py"))


@pytest.mark.parametrize("script", BENCHMARKS)
def test_help_prints_the_usage_and_changes_nothing(script: str) -> None:
    # GIVEN the recorded figures
    before = DOC.read_bytes()
    # WHEN a person asks a benchmark how to run it
    answer = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"], capture_output=True, text=True, timeout=60
    )
    # THEN it prints its usage, naming --no-write, and exits 0 without measuring or recording anything
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith(f"usage: {script}") and "--no-write" in answer.stdout
    assert DOC.read_bytes() == before

"""The local pacer: every handle on one data dir sees the same turn and the same backoff window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from worker.github.pacing import FilePacer, pace_key


def test_a_turn_taken_through_one_handle_holds_the_others_until_released(tmp_path: Path) -> None:
    # GIVEN two handles on one directory (two runs)
    one, two = FilePacer(tmp_path), FilePacer(tmp_path)
    # WHEN the first takes the turn for a content-creating request
    assert one.reserve("k", hold=60).ready
    # THEN the second must wait for it, while reads and other keys go at once
    held = two.reserve("k", hold=60)
    assert not held.ready and 59 < held.turn <= 60 and held.backoff <= 0
    assert two.reserve("k", hold=0).ready and two.reserve("other", hold=60).ready
    # WHEN it is released with a spacing / THEN the next waits only that spacing
    one.release("k", 0.5)
    spaced = two.reserve("k", hold=60)
    assert not spaced.ready and 0 < spaced.turn <= 0.5


def test_a_backoff_window_holds_reads_and_writes_and_only_grows(tmp_path: Path) -> None:
    one, two = FilePacer(tmp_path), FilePacer(tmp_path)
    far = 4_000_000_000.0
    one.block("k", far)
    one.block("k", far - 100)  # an earlier end never shortens the window
    for hold in (0, 60):
        wait = two.reserve("k", hold=hold)
        assert not wait.ready and wait.backoff > 1_000_000_000


def test_the_key_is_a_digest_and_never_the_token(tmp_path: Path) -> None:
    token = "ghp_secret_token_value"
    key = pace_key(token)
    FilePacer(tmp_path).block(key, 1.0)
    assert key != pace_key("another") and token not in key and pace_key(None) == "github-anonymous"
    assert all(token not in p.name and token not in p.read_text() for p in tmp_path.iterdir())


def test_a_turn_held_by_a_process_that_died_is_free_at_once(tmp_path: Path) -> None:
    # GIVEN another process that took the turn for a content-creating request
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SLEEP, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert not FilePacer(tmp_path).reserve("k", hold=60).ready
    finally:
        # WHEN it is killed mid-request (it never releases)
        holder.kill()
        holder.wait()
    # THEN the next content-creating request may go now, not after the hold runs out
    assert FilePacer(tmp_path).reserve("k", hold=60).ready


HOLD_AND_SLEEP = """
import sys, time
import subprocess
import sys
from pathlib import Path
from worker.github.pacing import FilePacer
FilePacer(Path(sys.argv[1])).reserve("k", hold=60)
print("held", flush=True)
time.sleep(60)
"""

"""Pacer contract: the GitHub pace behaves the same on files (one machine) and on the table (AWS)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import pytest

from core.ports import Pacer
from store.dynamo_pacer import DynamoPacer
from tests.fakes import moto_aws
from worker.github.pacing import FilePacer


@contextmanager
def dynamo_pacer(_: Path) -> Iterator[Pacer]:
    with moto_aws.dynamo_store() as store:
        yield DynamoPacer(store.dynamodb, store.table_name)


PACERS: dict[str, Callable[[Path], AbstractContextManager[Pacer]]] = {
    "file": lambda tmp_path: nullcontext(FilePacer(tmp_path / "pace")),
    "dynamodb": dynamo_pacer,
}


@pytest.fixture(params=sorted(PACERS))
def pacer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pacer]:
    with PACERS[request.param](tmp_path) as adapter:
        yield adapter


def test_one_content_creating_request_at_a_time(pacer: Pacer) -> None:
    # GIVEN one run that took the turn for 60 s
    assert pacer.reserve("k", 60).ready
    # WHEN another asks for a turn THEN it must wait about that long; reads need not wait
    second = pacer.reserve("k", 60)
    assert not second.ready and 55 < second.turn <= 60
    assert pacer.reserve("k", 0).ready
    # AND another key is not held up
    assert pacer.reserve("other", 60).ready


def test_release_starts_the_spacing_then_the_next_may_go(pacer: Pacer) -> None:
    assert pacer.reserve("k", 60).ready
    pacer.release("k", 30)
    waiting = pacer.reserve("k", 60)
    assert not waiting.ready and 25 < waiting.turn <= 30
    pacer.release("k", 0)
    assert pacer.reserve("k", 60).ready


def test_a_backoff_window_holds_every_request_and_a_shorter_one_does_not_shorten_it(pacer: Pacer) -> None:
    pacer.block("k", time.time() + 100)
    pacer.block("k", time.time() + 10)
    for hold in (0, 60):
        wait = pacer.reserve("k", hold)
        assert not wait.ready and 95 < wait.backoff <= 100

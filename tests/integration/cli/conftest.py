"""A real API server on a free port whose dispatcher runs scripted workers in threads."""

from __future__ import annotations

import contextlib
import json
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.models import RunStatus
from core.services.progress import RunProgress
from core.settings import Settings
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.cli.live_server import LiveServer

Script = Callable[[RunProgress], None]


def succeed(progress: RunProgress) -> None:
    """A worker whose run goes through its steps and succeeds."""
    progress.advance(RunStatus.CLONING, step="clone")
    progress.advance(RunStatus.RUNNING_AGENT, step="agent")
    progress.advance(RunStatus.SUCCEEDED, step="done", summary="Added type hints to greet().")


def fail(progress: RunProgress) -> None:
    """A worker whose run fails in the agent step."""
    progress.advance(RunStatus.CLONING, step="clone")
    progress.advance(RunStatus.RUNNING_AGENT, step="agent")
    progress.fail("REFUSAL", "the model declined the change")


class ThreadDispatcher(RecordingDispatcher):
    """A Dispatcher that runs `script` for each run in a thread, on its own store connection.

    Like a worker process, it shares nothing with the server but the database file.
    """

    def __init__(self, database_path: Path) -> None:
        super().__init__()
        self.database_path = database_path
        self.script: Script = succeed
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        super().dispatch(job_id, indexes)
        for index in indexes:
            thread = threading.Thread(target=self._work, args=(job_id, index), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self, job_id: str, index: int) -> None:
        from store.sqlite import SqliteStore

        store = SqliteStore(self.database_path)
        run = store.get_runs([job_id])[job_id][index]
        progress = RunProgress(store, run.id)
        try:
            self.script(progress)
        except Exception:
            # Like a real worker, never leave a run unfinished: a follower would wait forever.
            self.errors.append(traceback.format_exc())
            progress.fail("INTERNAL", "the scripted worker raised")
        finally:
            store.close()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)


@dataclass
class Api:
    server: LiveServer
    store: Any
    dispatcher: ThreadDispatcher
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url


class SubscribeTap:
    """ASGI middleware in front of the app that records what clients subscribe to over WebSocket, and the
    `next` payloads the server sends them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.subscribes: list[dict[str, Any]] = []  # graphql-transport-ws `subscribe` payloads, in order
        self.nexts: list[dict[str, Any]] = []  # graphql-transport-ws `next` payloads, in order

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def tapped() -> dict[str, Any]:
            message = await receive()
            with contextlib.suppress(ValueError, TypeError):
                data = json.loads(message.get("text") or "null")
                if isinstance(data, dict) and data.get("type") == "subscribe":
                    self.subscribes.append(data["payload"])
            return message

        async def sent(message: dict[str, Any]) -> None:
            with contextlib.suppress(ValueError, TypeError):
                data = json.loads(message.get("text") or "null")
                if isinstance(data, dict) and data.get("type") == "next":
                    self.nexts.append(data["payload"])
            await send(message)

        await self.app(scope, tapped, sent)


def start_api(
    settings: Settings, store: Any, server: LiveServer | None = None, tap: bool = False
) -> tuple[LiveServer, ThreadDispatcher]:
    """A live server for `settings` with a thread dispatcher (`server` serving it again when given; behind a
    SubscribeTap when `tap`, reachable as `server.app`)."""
    from server.runtime.container import Container
    from server.web.app import create_app

    dispatcher = ThreadDispatcher(settings.database_path)
    container = Container(settings=settings, store=store, dispatcher=dispatcher, feed=store)
    app = create_app(container)
    served = SubscribeTap(app) if tap else app
    if server is None:
        return LiveServer(served).start(), dispatcher
    server.app = served
    return server.start(), dispatcher


@pytest.fixture
def api(settings: Settings, store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    # Wide enough that rich never folds a path or an id in the tables under test.
    monkeypatch.setenv("COLUMNS", "250")
    server, dispatcher = start_api(settings, store)
    try:
        yield Api(server, store, dispatcher, settings)
    finally:
        dispatcher.join()
        server.stop()
    assert dispatcher.errors == []

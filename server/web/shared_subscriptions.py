"""One execution per distinct subscription, its frames sent to every subscriber of it.

Strawberry runs each subscription on its own: each reads the job after every event, executes
the selection and serializes the result, so the server's work per event grows with the
subscribers. Here subscribers of the same (document, operation name, variables) share one
execution: the first starts it, later ones join it, and each result is encoded once and the
same text goes to every member. Queries and mutations over the socket run as before.

A member joining a running execution of a subscription whose every result is the whole
current state (`STATE_SUBSCRIPTIONS`) first gets the latest result sent, which is what its
own snapshot would have been or older, and every later one; others get only later results.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Protocol, cast

import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast
from graphql.language import FieldNode
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation,
    _OperationStreamClosed,  # what Strawberry's own pre-execution error handling raises after closing
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from resolvers.context import Context
from schema.limits import MAX_TOKENS, parse_document
from schema.root import STATE_SUBSCRIPTIONS
from server.runtime.mailbox import Mailbox
from server.web.ws_messages import CheckedTransportWSHandler

logger = logging.getLogger("cody_batch.subscriptions")

INCREMENTAL = GraphQLError("Incremental delivery is not supported over graphql-transport-ws")

SharedKey = tuple[str, str | None, str]  # document, operation name, variables as canonical JSON


@dataclass(frozen=True)
class Ended:
    """The end of a shared execution; `refusal`: the request error that kept it from starting."""

    refusal: PreExecutionError | None = None


Frame = str | Ended  # a `next` payload, encoded once for every member; or the end


def subscription_field(query: str, operation_name: str | None) -> str | None:
    """The root field of the document's subscription operation; None for any other operation or a
    document that does not parse (Strawberry then answers it as usual)."""
    try:
        operation = get_operation_ast(parse_document(query, max_tokens=MAX_TOKENS), operation_name)
    except GraphQLError:
        return None
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return None
    first = operation.selection_set.selections[0] if operation.selection_set.selections else None
    return first.name.value if isinstance(first, FieldNode) else None


def shared_key(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> SharedKey:
    """What makes two subscriptions the same execution."""
    return query, operation_name, json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))


def encode_payload(result: ExecutionResult) -> str:
    """A result as the text of a graphql-transport-ws `next` payload."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json.dumps(payload, separators=(",", ":"))


class Member(Mailbox[Frame]):
    """One subscriber of a shared execution: its frames in order; `close` leaves the execution, which
    stops with its last member."""

    def __init__(self, execution: SharedExecution) -> None:
        super().__init__(lambda: execution.leave(self))


class SharedExecution:
    """One running subscription operation and the members it sends to."""

    def __init__(self, owner: SharedSubscriptions, key: SharedKey, replays_latest: bool) -> None:
        self.owner = owner
        self.key = key
        self.replays_latest = replays_latest
        self.members: set[Member] = set()
        self.latest: str | None = None
        self.task: asyncio.Task[None] | None = None

    def join(self) -> Member:
        member = Member(self)
        if self.replays_latest and self.latest is not None:
            member.deliver(self.latest)
        self.members.add(member)
        return member

    def leave(self, member: Member) -> None:
        self.members.discard(member)
        if not self.members and self.task is not None:
            # Nobody left to send to: stop executing (the resolver closes its feed subscription).
            self.owner.forget(self)
            self.task.cancel()

    def _send(self, frame: Frame) -> None:
        for member in self.members:
            member.deliver(frame)

    async def run(self, schema: strawberry.Schema, context: Context) -> None:
        query, operation_name, variables = self.key
        ending = Ended()
        try:
            source = await schema.stream(
                query, variable_values=json.loads(variables), context_value=context, operation_name=operation_name
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError):
                        ending = Ended(result)
                        return
                    if not isinstance(result, ExecutionResult):
                        ending = Ended(PreExecutionError(data=None, errors=[INCREMENTAL]))
                        return
                    text = encode_payload(result)
                    # An identical result carries nothing new: a member never gets one twice in a row.
                    if text == self.latest:
                        continue
                    self.latest = text
                    self._send(text)
        except Exception:
            logger.exception("a shared subscription failed; its members are completed")
        finally:
            # Forgotten before the members hear of the end, so a new subscriber starts a new execution.
            self.owner.forget(self)
            self._send(ending)


class SharedSubscriptions:
    """The running shared executions of one server, by key."""

    def __init__(self, schema: strawberry.Schema, make_context: Callable[[], Context]) -> None:
        self.schema = schema
        self.make_context = make_context
        self._running: dict[SharedKey, SharedExecution] = {}
        # One Context for every shared execution: resolvers read no connection's state, and
        # loaders are made per event (per_operation is False), never shared across results.
        self._context: Context | None = None

    @property
    def execution_count(self) -> int:
        return len(self._running)

    def join(self, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> Member | None:
        """A member of the shared execution of this subscription (started if none runs); None when the
        operation is not a subscription."""
        key = shared_key(query, variables, operation_name)
        execution = self._running.get(key)
        if execution is None:
            field = subscription_field(query, operation_name)
            if field is None:
                return None
            execution = SharedExecution(self, key, replays_latest=field in STATE_SUBSCRIPTIONS)
            self._running[key] = execution
            member = execution.join()
            if self._context is None:
                self._context = self.make_context()
            execution.task = asyncio.get_running_loop().create_task(
                execution.run(self.schema, self._context), name="shared-subscription"
            )
            return member
        return execution.join()

    def forget(self, execution: SharedExecution) -> None:
        if self._running.get(execution.key) is execution:
            del self._running[execution.key]


class SharingView(Protocol):
    """The view that owns the server's shared executions."""

    shared_subscriptions: SharedSubscriptions


class SharedSubscriptionHandler(CheckedTransportWSHandler):
    """graphql-transport-ws with subscriptions run through the server's shared executions."""

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        shared = cast("SharingView", self.view).shared_subscriptions
        member = shared.join(operation.query, operation.variables, operation.operation_name)
        if member is None:
            await super().run_operation(operation)
            return
        try:
            await self._send_frames(operation, member)
        except (_OperationStreamClosed, WebSocketDisconnect):
            return
        finally:
            member.close()

    async def _send_frames(self, operation: Operation[Any, Any], member: Member) -> None:
        head = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        socket = cast(ASGIWebSocketAdapter, self.websocket).ws
        while True:
            frame = await member.next()
            if isinstance(frame, str):
                if operation.completed:
                    return
                await socket.send_text(head + frame + "}")
                continue
            if frame.refusal is not None:
                await self._handle_pre_execution_error(operation, frame.refusal)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return

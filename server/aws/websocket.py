"""graphql-transport-ws over API Gateway's WebSocket routes: `$connect`, `$default`, `$disconnect`.

API Gateway owns the socket: a Lambda answers one event and can neither keep the socket nor
send a close code. So state lives in the table (server/aws/registry.py), replies go out through
`@connections`, and where the protocol closes with 4400/4401/4403/4409/4429 the handler sends an
`error` for the operation when there is one and then deletes the connection (docs/DESIGN.md).
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import PreExecutionError

from server.aws.callbacks import ConnectionGone
from server.aws.lambda_runtime import AwsRuntime
from server.aws.operations import Outcome, ReplayFeed, payload, run_operation
from server.aws.registry import (
    DUPLICATE,
    LIMIT,
    NOT_ACKNOWLEDGED,
    StoredSubscription,
    SubscriptionRefused,
    topic_of,
)
from server.aws.sent_cursors import GoLive
from server.web.json_text import load_json_text
from server.web.ws_messages import message_problem

logger = logging.getLogger(__name__)

PROTOCOL_HEADER = "Sec-WebSocket-Protocol"
# Snapshots sent before a subscription is handed over anyway: a job changes a few times a second
# at most, so this many in a row means it is unusually busy, not that the loop is stuck.
MAX_SNAPSHOTS = 10


def offered_protocols(event: APIGatewayWebSocketEvent) -> list[str]:
    """The subprotocols the client offered at `$connect`."""
    values = event.multi_value_headers.get(PROTOCOL_HEADER) or [event.headers.get(PROTOCOL_HEADER) or ""]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _text(event: APIGatewayWebSocketEvent) -> str | None:
    """The message as text; a binary frame that is not UTF-8 is no protocol message (None)."""
    try:
        return event.decoded_body
    except (UnicodeDecodeError, ValueError):
        return None


class Closed(Exception):
    """The protocol closes the socket here: `code` is what a WebSocket server would send."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class Registration:
    """Stores the subscription when its resolver subscribes (before it reads the job), once."""

    def __init__(self, runtime: AwsRuntime, connection_id: str, message: dict[str, Any]) -> None:
        self.runtime = runtime
        self.connection_id = connection_id
        self.message = message
        self.stored: StoredSubscription | None = None
        self.job_id: str | None = None

    def __call__(self, job_id: str | None) -> None:
        body = self.message["payload"]
        subscription = StoredSubscription(
            topic=topic_of(job_id),
            connection_id=self.connection_id,
            subscription_id=self.message["id"],
            query=body["query"],
            variables=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        # A job's subscription goes live once its snapshot is out (WebSocketHandler._started);
        # one to every job has no snapshot to wait for.
        self.runtime.registry.add(subscription, live=job_id is None)  # SubscriptionRefused ends the operation
        self.stored, self.job_id = subscription, job_id


class WebSocketHandler:
    """One API Gateway WebSocket event in, the route's answer out."""

    def __init__(self, runtime: AwsRuntime) -> None:
        self.runtime = runtime

    async def handle(self, event: APIGatewayWebSocketEvent) -> dict[str, Any]:
        """Answer `$connect`, `$disconnect` or a message (`$default`)."""
        context = event.request_context
        connection_id = context.connection_id
        if context.route_key == "$connect":
            return self.connect(event)
        if context.route_key == "$disconnect":
            self.runtime.registry.drop(connection_id)
            return {"statusCode": 200}
        try:
            await self.message(connection_id, _text(event))
        except Closed as closed:
            logger.info("closing %s: %s %s", connection_id, closed.code, closed.reason)
            self.close(connection_id)
        except ConnectionGone:
            self.runtime.registry.drop(connection_id)
        return {"statusCode": 200}

    def connect(self, event: APIGatewayWebSocketEvent) -> dict[str, Any]:
        """Accept the socket; echo graphql-transport-ws only when offered (refuse other protocols)."""
        offered = offered_protocols(event)
        if offered and GRAPHQL_TRANSPORT_WS_PROTOCOL not in offered:
            return {"statusCode": 400, "body": f"only the {GRAPHQL_TRANSPORT_WS_PROTOCOL} subprotocol is spoken"}
        self.runtime.registry.open(event.request_context.connection_id)
        if not offered:
            return {"statusCode": 200}
        return {"statusCode": 200, "headers": {PROTOCOL_HEADER: GRAPHQL_TRANSPORT_WS_PROTOCOL}}

    def close(self, connection_id: str) -> None:
        """DeleteConnection (no close code on API Gateway) and forget the connection's items."""
        self.runtime.registry.drop(connection_id)
        self.runtime.connections().close(connection_id)

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        self.runtime.connections().send(connection_id, message)

    async def message(self, connection_id: str, body: str | None) -> None:
        """One graphql-transport-ws message from the client."""
        try:
            message = load_json_text(body or "")
        except ValueError:
            raise Closed(4400, "a message must be JSON text") from None  # graphql-ws sends text frames
        problem = message_problem(message)
        if problem is not None:
            raise Closed(4400, problem)
        kind = message["type"]
        if kind == "connection_init":
            self.connection_init(connection_id, message.get("payload"))
        elif kind == "ping":
            self.send(connection_id, {"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self.subscribe(connection_id, message)
        elif kind == "complete":
            self.runtime.registry.remove(connection_id, message["id"])
        else:
            raise Closed(4400, f"Unknown message type: {kind}")

    def connection_init(self, connection_id: str, params: dict[str, Any] | None) -> None:
        """Ack once, here and never at `$connect` (the socket is open only after it)."""
        if not self.runtime.guard.accepts_connection_params(params):
            raise Closed(4403, "Forbidden")
        registry = self.runtime.registry
        if registry.connection(connection_id) is None:
            registry.open(connection_id)  # its $connect item expired or was lost: start afresh
        if not registry.acknowledge(connection_id):
            raise Closed(4429, "Too many initialisation requests")
        self.send(connection_id, {"type": "connection_ack"})

    async def subscribe(self, connection_id: str, message: dict[str, Any]) -> None:
        """Validate and run the operation; a subscription is stored, then the job's state goes out once."""
        operation_id = message["id"]
        connection = self.runtime.registry.connection(connection_id)
        if connection is None or not connection.get("acknowledged"):
            raise Closed(4401, "Unauthorized")
        registration = Registration(self.runtime, connection_id, message)
        body = message["payload"]
        outcome = await run_operation(
            self.runtime.schema,
            self.runtime.ports,
            ReplayFeed(on_subscribe=registration),
            body["query"],
            body.get("variables"),
            body.get("operationName"),
        )
        refusal = _refusal(outcome)
        if refusal is not None:
            self._refused(connection_id, operation_id, refusal)
            return
        error = outcome.pre_execution_error
        if error is not None:
            # Also a subscription that failed as it began (an unknown job): it never goes live.
            if registration.stored is not None:
                self.runtime.registry.remove(connection_id, operation_id)
            self._request_error(connection_id, operation_id, error)
            return
        if registration.stored is None:
            # A query or mutation (or a subscription that failed before it began): results, then complete.
            for result in outcome.results:
                self.send(connection_id, {"id": operation_id, "type": "next", "payload": payload(result)})
            self.send(connection_id, {"id": operation_id, "type": "complete"})
            return
        try:
            await self._started(registration, registration.stored, outcome)
        except ConnectionGone:
            raise
        except Exception:
            # A snapshot that could not be sent must not keep the stream handler away for good.
            self.runtime.registry.sent.force_live(registration.stored)
            raise

    async def _started(self, registration: Registration, stored: StoredSubscription, outcome: Outcome) -> None:
        """Send the job's state, then hand the subscription to the stream handler if the job is
        still at that state; else send the newer state and try again (server/aws/sent_cursors.py)."""
        job_id = registration.job_id
        cursors = self.runtime.registry.sent
        if job_id is None:
            self._send_results(stored, outcome)  # live from the start: nothing here the stream could overtake
            return
        for _ in range(MAX_SNAPSHOTS):
            self._send_results(stored, outcome)
            seq = outcome.seen.get(job_id)
            if seq is None:  # nothing was read: no state to hold the stream back for
                cursors.force_live(stored)
                return
            handed = cursors.go_live(stored, job_id, seq)
            if handed is not GoLive.MOVED:
                return
            outcome = await self._snapshot(stored)
        # The job kept changing: hand over now and send what it holds through a claim, as the
        # stream handler would (a frame of the stream handler's may then come first).
        logger.warning("job %s kept changing while %s subscribed", job_id, stored.connection_id)
        cursors.force_live(stored)
        outcome = await self._snapshot(stored)
        seq = outcome.seen.get(job_id)
        if seq is not None and cursors.claim(stored, job_id, seq) is not None:
            self._send_results(stored, Outcome(outcome.results[-1:]))  # the state at `seq` (see stream.py)

    async def _snapshot(self, stored: StoredSubscription) -> Outcome:
        """The operation run again over no events: the job's state now, as its first frame."""
        variables, name = stored.variables, stored.operation_name
        return await run_operation(self.runtime.schema, self.runtime.ports, ReplayFeed(), stored.query, variables, name)

    def _send_results(self, stored: StoredSubscription, outcome: Outcome) -> None:
        for result in outcome.results:
            message = {"id": stored.subscription_id, "type": "next", "payload": payload(result)}
            self.send(stored.connection_id, message)

    def _refused(self, connection_id: str, operation_id: str, refusal: SubscriptionRefused) -> None:
        if refusal.reason == LIMIT:
            # As Strawberry does locally: an error for this operation, the socket stays.
            error = GraphQLError(str(refusal)).formatted
            self.send(connection_id, {"id": operation_id, "type": "error", "payload": [error]})
            return
        code = {NOT_ACKNOWLEDGED: 4401, DUPLICATE: 4409}.get(refusal.reason, 4400)
        raise Closed(code, str(refusal))

    def _request_error(self, connection_id: str, operation_id: str, result: PreExecutionError) -> None:
        errors = result.errors or []
        self.send(connection_id, {"id": operation_id, "type": "error", "payload": [e.formatted for e in errors]})
        first = errors[0] if errors else None
        if isinstance(first, GraphQLSyntaxError) or (
            first is not None and isinstance(first.original_error, CannotGetOperationTypeError)
        ):
            # The protocol closes with 4400 here; the error above says why before the socket goes.
            raise Closed(4400, first.message)


def _refusal(outcome: Outcome) -> SubscriptionRefused | None:
    for result in outcome.results:
        for error in result.errors or ():
            if isinstance(error.original_error, SubscriptionRefused):
                return error.original_error
    return None

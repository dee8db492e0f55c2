"""`cody-batch smoke`: check a running server end to end, as a deploy pipeline does after `cdk deploy`.

A GraphQL query over HTTP, a graphql-transport-ws round trip (connection_init, subscribe, a
result), and optionally a one-repository job followed over the subscription until it ends.
Each step stops the check at its first failure with a message saying what did not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

from server.cli import queries as q
from server.cli.follow import follow_job
from server.cli.graphql_client import (
    ConnectionLost,
    GraphQLClient,
    GraphQLClientError,
    GraphQLResponseError,
    websocket_url,
)

SMOKE_QUERY = """
query Smoke {
  settings { backend demo defaultModel sampleRepositories }
  jobs(first: 1) { edges { node { id } } }
}
"""
JOB_PROBE = "subscription SmokeProbe($id: ID!) { jobUpdated(id: $id) { id status cursor } }"
PROBE_ID = "cody-batch-smoke-probe"
"""Asked for when the server has no job yet: a NOT_FOUND error is its answer, over the same path."""
SMOKE_PROMPT = "Add type hints to the public functions."

T = TypeVar("T")


class SmokeFailure(Exception):
    """A step of the check failed; the message says which and why."""


@dataclass(frozen=True)
class Step:
    """One passed step and what it showed."""

    name: str
    detail: str


@dataclass
class Smoke:
    """The steps against one server; `run` returns what passed, or raises SmokeFailure at the first failure."""

    client: GraphQLClient
    job: bool = False
    repository: str | None = None
    job_timeout: float = 900.0

    async def run(self, report: Callable[[Step], None]) -> None:
        """Run every step, reporting each passed one as it passes."""
        settings, latest_job = await self._query(report)
        await self._round_trip(latest_job, report)
        if self.job:
            await self._job(settings, report)

    async def _query(self, report: Callable[[Step], None]) -> tuple[dict[str, Any], str | None]:
        data = await self._step("query", asyncio.to_thread(self.client.execute, SMOKE_QUERY), self.client.timeout)
        settings = data["settings"]
        edges = data["jobs"]["edges"]
        mode = " (demo: the model is a recording)" if settings["demo"] else ""
        report(
            Step(
                "query",
                f"{self.client.url} answered: backend {settings['backend']}, model {settings['defaultModel']}{mode}",
            )
        )
        return settings, edges[0]["node"]["id"] if edges else None

    async def _round_trip(self, job_id: str | None, report: Callable[[Step], None]) -> None:
        target = self.client.ws_url or websocket_url(self.client.url)
        if job_id is None:
            await self._step("subscription", self._probe(), self.client.timeout)
            report(Step("subscription", f"{target}: connection_init, subscribe, answered (no job yet: NOT_FOUND)"))
            return
        update = await self._step("subscription", self._first_update(job_id), self.client.timeout)
        if update.get("id") != job_id:
            raise SmokeFailure(f"subscription: {target} sent job {update.get('id')!r} for a subscription to {job_id}")
        report(Step("subscription", f"{target}: connection_init, subscribe, next (job {job_id} {update['status']})"))

    async def _probe(self) -> None:
        """Subscribe to a job that does not exist; the server must say so over the socket."""
        try:
            update = await self._first_update(PROBE_ID)
        except GraphQLResponseError as err:
            if _not_found(err):
                return
            raise
        raise SmokeFailure(f"subscription: the server sent job {update.get('id')!r} for the unknown id {PROBE_ID}")

    async def _first_update(self, job_id: str) -> dict[str, Any]:
        async with aclosing(self.client.subscribe(JOB_PROBE, {"id": job_id})) as updates:
            async for data in updates:
                return dict(data["jobUpdated"])
        raise ConnectionLost("the server completed the subscription without a result")

    async def _job(self, settings: dict[str, Any], report: Callable[[Step], None]) -> None:
        repository = self.repository or next(iter(settings["sampleRepositories"]), None)
        if repository is None:
            raise SmokeFailure("job: the server offers no sample repository; name one with --repository")
        job_input = {"prompt": SMOKE_PROMPT, "repositories": [repository], "title": "cody-batch smoke check"}
        created = await self._step(
            "job", asyncio.to_thread(self.client.execute, q.CREATE_JOB, {"input": job_input}), self.client.timeout
        )
        payload = created["createJob"]
        if payload.get("__typename") == "InputError":
            raise SmokeFailure(f"job: the server refused it: {payload['message']}")
        final = await self._step("job", follow_job(self.client, payload, lambda _: None), self.job_timeout)
        if final["status"] != "SUCCEEDED":
            errors = "; ".join(
                f"{run['location']}: {run['error']['kind']} {run['error']['message']}"
                for run in final["repositories"]
                if run.get("error")
            )
            raise SmokeFailure(
                f"job {final['id']} on {repository} ended {final['status']}" + (f": {errors}" if errors else "")
            )
        report(Step("job", f"job {final['id']} on {repository} SUCCEEDED, followed live to its end"))

    @staticmethod
    async def _step(name: str, work: Awaitable[T], timeout: float) -> T:
        try:
            return await asyncio.wait_for(work, timeout)
        except TimeoutError as err:
            raise SmokeFailure(f"{name}: no answer within {timeout:g} s") from err
        except GraphQLClientError as err:
            raise SmokeFailure(f"{name}: {err}") from err


def _not_found(error: GraphQLResponseError) -> bool:
    return any((e.get("extensions") or {}).get("code") == "NOT_FOUND" for e in error.errors)

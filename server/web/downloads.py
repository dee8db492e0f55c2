"""The patch download: a run's diff as a file, behind the token or a signed link."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.models import Patch, RepositoryRun
from resolvers.links import patch_path, verify
from server.runtime.container import Container
from server.web.auth import TokenGuard


def _patch_of(run: RepositoryRun, attempt: str | None) -> Patch | None:
    if attempt is None or attempt == str(run.attempt):
        return run.patch
    return next((a.patch for a in run.attempts if str(a.attempt) == attempt), None)


class PatchDownload:
    """GET /jobs/{job_id}/runs/{run_id}/patch[?attempt=N] -> text/x-diff attachment."""

    def __init__(self, container: Container, guard: TokenGuard) -> None:
        self.container = container
        self.guard = guard

    def _allowed(self, request: Request, path: str) -> bool:
        if self.guard.accepts_headers(request.headers):
            return True
        key = self.guard.signing_key
        params = request.query_params
        return key is not None and verify(path, params.get("expires"), params.get("signature"), key)

    async def endpoint(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        run_id = request.path_params["run_id"]
        path = patch_path(job_id, run_id)
        if not self._allowed(request, path):
            return PlainTextResponse("a valid bearer token or signed link is required", status_code=401)
        store = self.container.store
        run = await asyncio.to_thread(store.get_run, run_id)
        patch = None if run is None or run.job_id != job_id else _patch_of(run, request.query_params.get("attempt"))
        data = None if patch is None else await asyncio.to_thread(store.get_artifact, patch.artifact_key)
        if run is None or data is None:
            return PlainTextResponse("no patch for this run", status_code=404)
        name = f"{job_id}-{run.index}.diff"
        return Response(
            data,
            media_type="text/x-diff; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

"""Lambda's Invoke API for the emulated functions: what boto3's `lambda.invoke` reaches on the emulator.

moto runs a Lambda function only in Docker, which the emulator does without, so the functions the
others invoke (the GitHub function) are answered here, in this process, as Lambda answers: a
synchronous invoke returns the handler's JSON; an unhandled error is a 200 with
`X-Amz-Function-Error: Unhandled` and `{"errorMessage", "errorType"}`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.aws.emulator.gateway import LambdaFunction

logger = logging.getLogger("cody_batch.emulator.lambda")
INVOKE_PATH = "/2015-03-31/functions/{function_name}/invocations"


class LambdaInvokeApi:
    """`Invoke` (RequestResponse) for the named functions; the route to mount beside the gateway's."""

    def __init__(self, functions: Mapping[str, LambdaFunction]) -> None:
        self.functions = dict(functions)

    def routes(self) -> list[Route]:
        """The Invoke route."""
        return [Route(INVOKE_PATH, self.invoke, methods=["POST"])]

    async def invoke(self, request: Request) -> Response:
        """Run the named function on the request's payload and answer with its result."""
        # As @connections: only SigV4-signed calls, so a page in a browser cannot invoke a function.
        if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return JSONResponse({"message": "Missing Authentication Token"}, status_code=403)
        name = request.path_params["function_name"].rsplit(":", 1)[-1]  # a name or an ARN
        function = self.functions.get(name)
        if function is None:
            body = {"Type": "User", "Message": f"Function not found: {name}"}
            return JSONResponse(body, status_code=404, headers={"x-amzn-ErrorType": "ResourceNotFoundException"})
        if request.headers.get("x-amz-invocation-type", "RequestResponse") != "RequestResponse":
            return JSONResponse({"message": "only RequestResponse invocations are emulated"}, status_code=400)
        try:
            event = json.loads(await request.body() or b"{}")
            answer = await function.invoke_async(event)
        except Exception as err:
            logger.exception("the %s function failed", name)
            error = {"errorMessage": str(err), "errorType": type(err).__name__}
            return JSONResponse(error, headers={"X-Amz-Function-Error": "Unhandled"})
        return Response(json.dumps(answer), media_type="application/json")

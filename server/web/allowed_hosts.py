"""AllowedHosts: every HTTP and WebSocket request must name this server, against DNS rebinding.

A page on a name its owner controls can point that name at 127.0.0.1 and then talk to this
server as a same-origin page would: its requests carry `Host: evil.example:PORT` and a matching
Origin, so an Origin == Host check passes. Only the Host header tells such a request apart,
so the server answers only to the names it is known by.

Starlette's TrustedHostMiddleware is not used: it splits the port off at the first colon, so
`[::1]:8000` cannot be allowed, and it leaves Origin alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from core.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
# A name or IPv4 address, or a bracketed IPv6 address, then an optional port; nothing else
# (no user info, path or spaces, which lenient URL parsers would quietly drop).
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::[0-9]{1,5})?")
_ORIGIN = re.compile(r"(?:https?|wss?)://(?P<host>[^/]+)")
WEBSOCKET_DENIAL = "websocket.http.response"
POLICY_VIOLATION = 1008


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """The names this server answers to: loopback, the address it binds, the public URL's host and
    CODY_BATCH_ALLOWED_HOSTS (lower case, IPv6 without brackets)."""
    names = {*LOOPBACK, *settings.allowed_hosts}
    if settings.host not in WILDCARD_BINDS:
        names.add(settings.host.strip("[]"))
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            names.add(public)
    return frozenset(name.lower() for name in names)


def host_name(value: str) -> str | None:
    """The host of a Host header value (`name[:port]` or `[v6][:port]`), lower case; None if malformed."""
    match = _HOST.fullmatch(value)
    if match is None:
        return None
    return (match["ipv6"] or match["name"]).lower()


def origin_host_name(value: str) -> str | None:
    """The host of an Origin header value; None for `null` or anything malformed."""
    match = _ORIGIN.fullmatch(value)
    return None if match is None else host_name(match["host"])


class AllowedHosts:
    """ASGI middleware: refuses a request whose Host (or Origin, when sent) names another server;
    HTTP gets a 400 saying why, a WebSocket handshake is refused the same way."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = self.problem(Headers(scope=scope))
            if problem is not None:
                await self._refuse(problem, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def problem(self, headers: Headers) -> str | None:
        """Why these headers are refused, or None."""
        hosts, origins = headers.getlist("host"), headers.getlist("origin")
        if len(hosts) != 1:
            return f"the request has {len(hosts) or 'no'} Host headers; it needs one"
        if host_name(hosts[0]) not in self.names:
            return f"the Host header {hosts[0]!r} does not name this server"
        if len(origins) > 1:
            return "the request has several Origin headers"
        if origins and origin_host_name(origins[0]) not in self.names:
            return f"the Origin {origins[0]!r} does not name this server"
        return None

    async def _refuse(self, problem: str, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"{problem}; it answers to {', '.join(sorted(self.names))} (CODY_BATCH_ALLOWED_HOSTS adds names)"
        if scope["type"] == "websocket" and WEBSOCKET_DENIAL not in scope.get("extensions", {}):
            await WebSocketClose(POLICY_VIOLATION, problem)(scope, receive, send)
            return
        await JSONResponse({"errors": [{"message": message}]}, status_code=400)(scope, receive, send)

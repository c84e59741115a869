"""The drain state that SIGTERM sets, and what it changes for clients before the process stops.

While draining, readiness answers 503 and every HTTP response says `Connection: close`: a balancer's pooled
keep-alive connections to this replica are closed one by one after their next answer, so by the time the
server stops listening none is left idle to fail a request that races with the shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Draining:
    """Set once SIGTERM arrives and never cleared: the process is on its way out."""

    active: bool = False

    def begin(self) -> None:
        # Called from a signal handler: a plain assignment, nothing that could block or take a lock.
        self.active = True


class CloseConnectionsWhileDraining:
    """Adds `Connection: close` to every HTTP response once draining has begun."""

    def __init__(self, app: ASGIApp, draining: Draining):
        self.app = app
        self.draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.draining.active:
            await self.app(scope, receive, send)
            return

        async def send_with_close(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_with_close)

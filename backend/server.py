"""The uvicorn server around the app: counts TCP connections and drains on SIGTERM.

SIGTERM: readiness turns 503 at once; the backend keeps serving for `DRAIN_SECONDS` so a balancer notices,
then stops accepting, closes WebSockets with 1001 (going away), lets in-flight requests finish (at most
`GRACEFUL_SHUTDOWN_SECONDS`) and exits 0. A second SIGTERM skips the rest of the drain window; a second
SIGINT skips waiting for in-flight requests.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import signal
import socket
import time
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from backend.app import MAX_BROADCAST_BYTES, Backend
from backend.broadcast import BroadcastProtocol
from backend.settings import GRACEFUL_SHUTDOWN_SECONDS

GOING_AWAY = 1001

logger = logging.getLogger("backend.server")


def serve(backend: Backend) -> None:
    """Runs the backend until it is told to stop, on the settings' host and port."""
    settings = backend.settings

    class ConnectionCountingProtocol(H11Protocol):
        """uvicorn's h11 protocol, counting each accepted TCP connection (one protocol instance per connection)."""

        def connection_made(self, transport: asyncio.Transport) -> None:
            backend.metrics.connection_accepted()
            super().connection_made(transport)

    config = uvicorn.Config(
        backend.app,
        host=settings.host,
        port=settings.port,
        http=ConnectionCountingProtocol,
        ws=BroadcastProtocol,  # websockets-sansio, plus the broadcast hub's one-frame-for-all writes
        ws_max_size=MAX_BROADCAST_BYTES,
        lifespan="on",
        log_config=_log_config(),
        access_log=settings.access_log,
        timeout_keep_alive=settings.keepalive_timeout_seconds,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    DrainingServer(config, backend).run()


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain window before its graceful shutdown, and 1001 for WebSocket clients."""

    def __init__(self, config: uvicorn.Config, backend: Backend):
        super().__init__(config)
        self._backend = backend
        self._drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in the signal handler: only flags and a timestamp, the main loop acts on them.
        # The signal is deliberately not recorded for re-raising (uvicorn would re-raise it after shutdown and
        # the process would die by SIGTERM instead of exiting 0 after a clean drain).
        self._backend.draining.begin()
        drain_seconds = self._backend.settings.drain_seconds
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        elif sig == signal.SIGTERM and drain_seconds > 0 and self._drain_deadline is None and not self.should_exit:
            self._drain_deadline = time.monotonic() + drain_seconds
            logger.info("SIGTERM: draining for %g s (readiness 503) before shutting down", drain_seconds)
        else:
            self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self._drain_deadline is not None and time.monotonic() >= self._drain_deadline:
            self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop accepting first, then say "going away" ourselves: uvicorn's own shutdown would close with 1012.
        for server in self.servers:
            server.close()
        await self._backend.hub.close_all(GOING_AWAY)
        await super().shutdown(sockets)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with the backend's own loggers (broadcast, drain) printed the same way."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["backend"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config

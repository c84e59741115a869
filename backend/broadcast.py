"""Broadcast to every WebSocket client of every replica through Redis pub/sub.

Each process runs one subscriber task on `brain:websocket:broadcast` and fans each message out to its own
sockets: the WebSocket frame is encoded once and written straight to every connection's transport, with no
task, no timeout and no copy per client (server frames are unmasked, so every client gets the same bytes). A
client whose unsent data has piled up beyond `WRITE_BUFFER_LIMIT` is disconnected, never waited for.
A publish reaches the replicas subscribed at that moment (pub/sub keeps no backlog): a replica that is
reconnecting to Redis misses it, and reports not ready until it is subscribed again.
Without Redis the hub delivers to this process's sockets only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

CHANNEL = "brain:websocket:broadcast"
WRITE_BUFFER_LIMIT = 1024 * 1024
"""Bytes a client's connection may hold unsent (beyond what the kernel took) before a broadcast disconnects it:
a client that stopped reading costs this much memory at most and never delays anyone else's copy."""
CLOSE_TIMEOUT_SECONDS = 5.0
SCOPE_EXTENSION = "brain.broadcast"
"""The ASGI scope extension under which `BroadcastProtocol` hands the hub its connection."""
REDIS_TIMEOUT_SECONDS = 1.0
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
"""Waits between attempts to resubscribe after Redis went away; the last one repeats."""

FrameWriter = Callable[[bytes], bool]
"""Writes an encoded frame to one client; False when that client is gone (`BroadcastProtocol.write_frame`)."""

logger = logging.getLogger("backend.broadcast")


class BroadcastHub:
    """This process's WebSocket clients and its side of the Redis channel."""

    def __init__(self, instance: str, redis_url: str | None):
        self.instance = instance
        self._client: redis.Redis | None = None
        self._subscriber: redis.Redis | None = None
        if redis_url:
            # Publishing and PING: short timeouts, so a request or a readiness probe never hangs on Redis.
            self._client = redis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
            )
            # The subscription: no transparent retries, so a lost connection reaches `run_subscriber` at once and
            # `subscribed` tells the truth; the read itself blocks for as long as the channel is quiet.
            self._subscriber = redis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0)
            )
        self._sockets: dict[WebSocket, FrameWriter] = {}
        self.subscribed = False

    @property
    def delivery(self) -> str:
        """Who a broadcast reaches: "redis" (every replica) or "local" (this process only)."""
        return "redis" if self._client is not None else "local"

    @property
    def client_count(self) -> int:
        """How many clients this process delivers broadcasts to."""
        return len(self._sockets)

    def add(self, socket: WebSocket) -> None:
        """Registers an accepted WebSocket; the server must run `BroadcastProtocol` (backend/server.py does)."""
        self._sockets[socket] = socket.scope["extensions"][SCOPE_EXTENSION]["write_frame"]

    def discard(self, socket: WebSocket) -> None:
        self._sockets.pop(socket, None)

    async def publish(self, value: object) -> None:
        """Sends `{"broadcast": value, "from": <this instance>}` to every client; raises if Redis is unreachable."""
        envelope = json.dumps({"broadcast": value, "from": self.instance}, separators=(",", ":"))
        if self._client is None:
            self._deliver(envelope.encode())
        else:
            await self._client.publish(CHANNEL, envelope)

    async def run_subscriber(self) -> None:
        """Forever: subscribe, fan messages out, and resubscribe after any Redis failure. Cancel to stop."""
        if self._subscriber is None:
            logger.warning("REDIS_URL is not set: broadcasts reach this process's WebSocket clients only")
            return
        failures = 0
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":
                            self.subscribed, failures = True, 0
                            logger.info("subscribed to %s", CHANNEL)
                        elif message["type"] == "message":
                            self._deliver(message["data"])
                raise ConnectionError("the subscription ended")  # never expected; retry after a pause, never spin
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away (or never was there): keep trying, never die
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                if failures == 0:  # once per outage, not once per attempt
                    logger.warning("subscription to %s failed (%s); retrying", CHANNEL, error)
                failures += 1
                await asyncio.sleep(delay)
            finally:
                self.subscribed = False

    async def ping(self) -> None:
        """A readiness check: Redis answers on the connection broadcasts are published with."""
        if self._client is not None:
            await self._client.ping()

    async def subscription_check(self) -> None:
        """A readiness check: a replica that is not subscribed would silently miss broadcasts."""
        if not self.subscribed:
            raise ConnectionError(f"not subscribed to {CHANNEL}")

    async def aclose(self) -> None:
        """Closes the Redis connections (after the subscriber task was cancelled)."""
        for client in (self._client, self._subscriber):
            if client is not None:
                await client.aclose()

    async def close_all(self, code: int) -> None:
        """Closes every client (1001 "going away" on shutdown) so clients reconnect, through the balancer, elsewhere."""
        await asyncio.gather(*(self._close(socket, code) for socket in list(self._sockets)))

    def _deliver(self, text: bytes) -> None:
        """One frame for all: written to every client's transport now, in this one pass of the event loop."""
        frame = Frame(Opcode.TEXT, text).serialize(mask=False)
        gone = [socket for socket, write_frame in self._sockets.items() if not write_frame(frame)]
        for socket in gone:
            self.discard(socket)

    async def _close(self, socket: WebSocket, code: int) -> None:
        self.discard(socket)
        try:
            await asyncio.wait_for(socket.close(code), CLOSE_TIMEOUT_SECONDS)
        except Exception:  # already closed by the client: nothing left to do
            pass


class BroadcastProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (websockets, sans-I/O), which also takes ready-made frames from the hub.

    A broadcast frame is never compressed (its RSV1 bit is clear), which RFC 7692 allows even on a connection
    that negotiated permessage-deflate: the same bytes are valid for every client.
    """

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # the app's task is scheduled, not started: it sees the extension
            self.scope.setdefault("extensions", {})[SCOPE_EXTENSION] = {"write_frame": self.write_frame}

    def write_frame(self, frame: bytes) -> bool:
        """Queues `frame` for the client, unless the connection is closing (False) or the client has stopped
        reading: then the connection is dropped at once (False); the app sees a disconnect."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return False
        if self.transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            logger.warning("dropping WebSocket client %s: %d bytes of broadcasts unread",
                           self.client, self.transport.get_write_buffer_size())
            self.transport.abort()
            return False
        self.transport.write(frame)
        return True

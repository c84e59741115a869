"""Broadcast to every WebSocket client of every replica through Redis pub/sub.

Each process runs one subscriber task on `brain:websocket:broadcast` and fans each message out to its own
sockets. A publish reaches the replicas subscribed at that moment (pub/sub keeps no backlog): a replica
that is reconnecting to Redis misses it, and reports not ready until it is subscribed again.
Without Redis the hub delivers to this process's sockets only.
"""

from __future__ import annotations

import asyncio
import json
import logging

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.websockets import WebSocket

CHANNEL = "brain:websocket:broadcast"
SEND_TIMEOUT_SECONDS = 5.0
"""A client that cannot take a message in this time gets no more broadcasts: a stalled client holds up the
fan-out of the next message for at most this long, and never the delivery of the current one to others."""
REDIS_TIMEOUT_SECONDS = 1.0
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
"""Waits between attempts to resubscribe after Redis went away; the last one repeats."""

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
        self._sockets: set[WebSocket] = set()
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
        self._sockets.add(socket)

    def discard(self, socket: WebSocket) -> None:
        self._sockets.discard(socket)

    async def publish(self, value: object) -> None:
        """Sends `{"broadcast": value, "from": <this instance>}` to every client; raises if Redis is unreachable."""
        envelope = json.dumps({"broadcast": value, "from": self.instance}, separators=(",", ":"))
        if self._client is None:
            await self._deliver(envelope)
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
                            await self._deliver(message["data"])
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

    async def _deliver(self, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode()
        await asyncio.gather(*(self._send(socket, text) for socket in list(self._sockets)))

    async def _send(self, socket: WebSocket, text: str) -> None:
        try:
            await asyncio.wait_for(socket.send_text(text), SEND_TIMEOUT_SECONDS)
        except Exception:  # closed, closing or stalled: this client is gone for broadcasts
            self.discard(socket)

    async def _close(self, socket: WebSocket, code: int) -> None:
        self.discard(socket)
        try:
            await asyncio.wait_for(socket.close(code), SEND_TIMEOUT_SECONDS)
        except Exception:  # already closed by the client: nothing left to do
            pass

"""The FastAPI application: health, agent info, metrics, broadcast and the WebSocket endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import redis.asyncio as redis
from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from backend.broadcast import BroadcastHub
from backend.drain import CloseConnectionsWhileDraining, Draining
from backend.messages import NOT_A_BROADCAST, RefusedJson, broadcast_value
from backend.metrics import Metrics, RequestMetricsMiddleware
from backend.readiness import CHECK_TIMEOUT_SECONDS, Readiness, postgres_check, qdrant_check
from backend.settings import Settings

MAX_BROADCAST_BYTES = 64 * 1024
"""The largest body `POST /api/broadcast` accepts (and the largest WebSocket message the server takes)."""
UNSUPPORTED_DATA = 1003
"""WebSocket close code for a binary message: this endpoint speaks text."""
INVALID_PAYLOAD = 1007
"""WebSocket close code for a message the contract refuses (NaN, Infinity, JSON nested too deep)."""

logger = logging.getLogger("backend.app")


@dataclass
class Backend:
    """The app and the parts the server drives from outside a request: drain state, sockets, connection count."""

    app: FastAPI
    settings: Settings
    metrics: Metrics
    hub: BroadcastHub
    draining: Draining


def create_backend(settings: Settings) -> Backend:
    """Builds the app for `settings`; connections to the dependencies open in its lifespan."""
    instance = settings.instance_id
    metrics = Metrics(instance)
    draining = Draining()
    qdrant_client = (
        httpx.AsyncClient(
            base_url=settings.qdrant_url,
            headers={"api-key": settings.qdrant_api_key} if settings.qdrant_api_key else {},
            timeout=CHECK_TIMEOUT_SECONDS,
        )
        if settings.qdrant_url
        else None
    )
    hub = BroadcastHub(instance, settings.redis_url)
    metrics.websocket_clients.set_function(lambda: hub.client_count)
    readiness = Readiness(draining)
    if settings.database_url:
        readiness.checks["postgres"] = postgres_check(settings.database_url)
    if settings.redis_url:
        readiness.checks["redis"] = hub.ping
        readiness.checks["redis_subscription"] = hub.subscription_check
        metrics.track_broadcast_subscription(lambda: hub.subscribed)
    if qdrant_client is not None:
        readiness.checks["qdrant"] = qdrant_check(qdrant_client)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        subscriber = asyncio.create_task(hub.run_subscriber(), name="broadcast-subscriber")
        try:
            yield
        finally:
            subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscriber
            await hub.aclose()
            if qdrant_client is not None:
                await qdrant_client.aclose()

    app = FastAPI(
        title="BRAiN Core reference backend", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(CloseConnectionsWhileDraining, draining=draining)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    started = time.monotonic()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "alive", "instance": instance}

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        is_ready, status, checks = await readiness.evaluate()
        body = {"status": status, "instance": instance, "checks": checks}
        return JSONResponse(body, status_code=200 if is_ready else 503)

    # MAX_CONCURRENCY: requests over the cap queue here rather than being refused, like a worker pool.
    capacity: contextlib.AbstractAsyncContextManager[object] = (
        asyncio.Semaphore(settings.max_concurrency) if settings.max_concurrency else contextlib.nullcontext()
    )

    @app.get("/api/agents/info")
    async def agents_info() -> dict[str, object]:
        async with capacity:
            if settings.response_delay_ms:
                await asyncio.sleep(settings.response_delay_ms / 1000)
        return {
            "instance": instance,
            "instance_number": settings.instance_number,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - started, 3),
            "connections_accepted": metrics.connections_accepted,
            "websocket_clients": hub.client_count,
            "broadcast_delivery": hub.delivery,
        }

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        metrics.ready.set((await readiness.evaluate())[0])
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/broadcast")
    async def broadcast(request: Request) -> dict[str, object]:
        try:
            value = broadcast_value(await _read_body(request, MAX_BROADCAST_BYTES))
        except RefusedJson as refused:
            raise HTTPException(400, str(refused)) from None
        if value is NOT_A_BROADCAST:
            raise HTTPException(400, 'expected a JSON object {"broadcast": <any JSON value>}')
        await _publish(hub, value)
        return {"published": True, "from": instance, "delivery": hub.delivery}

    @app.websocket("/ws/{path:path}")
    async def websocket(socket: WebSocket) -> None:
        await socket.accept()
        try:
            await socket.send_json({"instance": instance})
            hub.add(socket)
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    await socket.close(UNSUPPORTED_DATA)
                    return
                try:
                    value = broadcast_value(text)
                except RefusedJson as refused:
                    await socket.close(INVALID_PAYLOAD, str(refused))
                    return
                if value is NOT_A_BROADCAST:
                    await socket.send_json({"instance": instance, "echo": text})
                    continue
                try:
                    await _publish(hub, value)
                except HTTPException as error:
                    await socket.send_json({"instance": instance, "error": error.detail})
        except WebSocketDisconnect:
            pass  # the client went away while we were sending: nothing to clean up but the registration
        finally:
            hub.discard(socket)

    return Backend(app=app, settings=settings, metrics=metrics, hub=hub, draining=draining)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it exceeds `limit` (never buffered whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


async def _publish(hub: BroadcastHub, value: object) -> None:
    try:
        await hub.publish(value)
    except (redis.RedisError, OSError) as error:
        # Which Redis, and why, is for the operator's log: a public caller learns only that it failed.
        logger.warning("broadcast not published: Redis did not take the message (%s: %s)", type(error).__name__, error)
        raise HTTPException(503, "broadcast unavailable: the message was not published; try again later") from error

"""HTTP load for the live suite: GETs through the balancer, each answer counted by the backend `instance` it names.

Two shapes: `send_requests` for a fixed number of requests (distribution, keepalive), and `SteadyLoad` for
traffic that keeps flowing in a background thread while a test kills, restarts or reloads something.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass
class LoadResult:
    """What the balancer answered: the instance behind every success, a description of every failure.

    Requests are numbered in the order they were sent; answers are kept in the order they arrived.
    """

    sent: int = 0
    answers: list[tuple[int, str]] = field(default_factory=list)
    """(request number, instance that answered it)"""
    failures: list[str] = field(default_factory=list)

    @property
    def answered_by(self) -> list[str]:
        return [instance for _, instance in self.answers]

    @property
    def per_instance(self) -> Counter[str]:
        return Counter(self.answered_by)

    def answered_between(self, first: int, stop: int | None = None) -> set[str]:
        """The instances that answered requests numbered `first` up to (not including) `stop`."""
        return {instance for number, instance in self.answers if first <= number and (stop is None or number < stop)}


def _client(concurrency: int, local_address: str | None, keep_alive: bool = True) -> httpx.AsyncClient:
    """One keep-alive connection per worker (or a new connection per request), optionally from a chosen
    loopback source address (127.0.K.1)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keep_alive else 0)
    transport = httpx.AsyncHTTPTransport(local_address=local_address, limits=limits, retries=0)
    return httpx.AsyncClient(transport=transport, timeout=REQUEST_TIMEOUT_SECONDS)


async def _get_instance(client: httpx.AsyncClient, url: str, result: LoadResult) -> None:
    """One GET; a success is a 200 whose JSON names the instance, anything else is a failure."""
    number = result.sent
    result.sent += 1
    try:
        response = await client.get(url)
        instance = response.json().get("instance") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as error:
        result.failures.append(f"GET {url}: {type(error).__name__}: {error}")
        return
    if instance is None:
        result.failures.append(f"GET {url}: status {response.status_code}: {response.text[:200]!r}")
    else:
        result.answers.append((number, str(instance)))


async def _send_requests(url: str, total: int, concurrency: int, local_address: str | None) -> LoadResult:
    result = LoadResult()
    remaining = iter(range(total))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            await _get_instance(client, url, result)

    async with _client(concurrency, local_address) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return result


def send_requests(url: str, total: int, concurrency: int = 1, local_address: str | None = None) -> LoadResult:
    """`total` GETs over `concurrency` keep-alive connections; concurrency 1 means strictly sequential."""
    return asyncio.run(_send_requests(url, total, concurrency, local_address))


class SteadyLoad:
    """GETs at fixed concurrency in a background thread, from `start()` until `stop()` (or the `with` block ends).

    Progress is read by count, not by time, so a test waits for "N more answers" and stays exact on a busy machine.
    """

    def __init__(self, url: str, concurrency: int = 10, keep_alive: bool = True):
        self.url = url
        self.concurrency = concurrency
        self.keep_alive = keep_alive
        self.result = LoadResult()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="steady-load", daemon=True)

    async def _run(self) -> None:
        async def worker(client: httpx.AsyncClient) -> None:
            while not self._stopping.is_set():
                await _get_instance(client, self.url, self.result)

        async with _client(self.concurrency, None, self.keep_alive) as client:
            await asyncio.gather(*(worker(client) for _ in range(self.concurrency)))

    @property
    def completed(self) -> int:
        return len(self.result.answers) + len(self.result.failures)

    def start(self) -> SteadyLoad:
        self._thread.start()
        return self

    def stop(self) -> LoadResult:
        self._stopping.set()
        self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)
        if self._thread.is_alive():
            raise TimeoutError(f"load on {self.url} did not stop within {REQUEST_TIMEOUT_SECONDS + 5}s")
        return self.result

    def __enter__(self) -> SteadyLoad:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_requests(self, count: int, timeout: float = 60) -> None:
        """Block until `count` more requests have completed (answered or failed)."""
        target = self.completed + count
        self._wait(lambda: self.completed >= target, f"{count} more requests", timeout)

    def wait_for_instance(self, instance: str, timeout: float = 60) -> None:
        """Block until a request answered from now on comes from `instance`."""
        first = self.result.sent
        self._wait(lambda: instance in self.result.answered_between(first), f"an answer from {instance}", timeout)

    def _wait(self, done: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if not self._thread.is_alive():
                raise RuntimeError(f"load on {self.url} stopped while waiting for {what}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"waited {timeout}s for {what} on {self.url}; {self.completed} requests so far, "
                    f"{len(self.result.failures)} failed, per instance {dict(self.result.per_instance)}"
                )
            time.sleep(0.01)

"""A WebSocket client cheap enough to hold thousands of connections in one process and read every copy of a
broadcast: an asyncio protocol that parses frames by hand (no per-connection task, no library state machine).

It speaks just what the benchmark needs: the opening handshake, text frames from the server (unmasked, not
fragmented, not compressed: it offers no extension), pongs for the server's keep-alive pings, and close.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA

OnText = Callable[[bytes, float], None]
"""Called with each text message's payload and the `time.perf_counter()` at which it was read."""


class RawWebSocket(asyncio.Protocol):
    """One client connection; `opened` resolves with the first message (the backend's greeting)."""

    def __init__(self, host: str, path: str, on_text: OnText):
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self._on_text = on_text
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the greeting ({exc})"))

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(f"handshake refused: {bytes(buffer[:80])!r}"))
                self.close()
                return
            del buffer[:end + 4]
            self._upgraded = True
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start:start + length])
            del buffer[:start + length]
            if opcode == TEXT:
                if self.opened.done():
                    self._on_text(payload, arrived)
                else:
                    self.opened.set_result(payload)
            elif opcode == PING:
                self._send(PONG, payload)
            elif opcode == CLOSE:
                self.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        """A client frame: masked (RFC 6455 requires it), payloads under 126 bytes only (pongs, close)."""
        assert self.transport is not None and len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(CLOSE, (1000).to_bytes(2, "big"))
            self.transport.close()


async def open_websocket(host: str, port: int, path: str, source: str, on_text: OnText,
                         timeout: float) -> tuple[RawWebSocket, bytes]:
    """A connection from `source` to ws://host:port/path, and its first message."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: RawWebSocket(host, path, on_text), host, port, local_addr=(source, 0)),
        timeout,
    )
    return client, await asyncio.wait_for(client.opened, timeout)

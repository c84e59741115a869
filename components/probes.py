"""Health probe commands both targets run inside their data-store containers."""

from __future__ import annotations

PG_ISREADY_TIMEOUT = 3
"""pg_isready's connect timeout (its default, explicit): below the probe's, so the probe reports its answer."""


def postgres_ready_command(user: str, database: str, port: int = 5432) -> list[str]:
    """`pg_isready` over TCP, never the Unix socket: on a fresh volume the image's entrypoint runs a temporary
    server on the socket only while it initialises, and a socket probe reports that one ready
    (docker-library/postgres #880); the real server is the one that listens on TCP."""
    return ["pg_isready", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database, "-t", str(PG_ISREADY_TIMEOUT)]

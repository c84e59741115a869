"""NginxSettings: the balancer values the renderer turns into nginx.conf, as its own plain model.

The renderer owns this model so it stays free of the Pulumi layer; callers convert their config into it
(components/nginx_settings.py does so for the stack config's `BalancerConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Algorithm = Literal["round_robin", "least_conn", "ip_hash", "weighted", "consistent_hash"]
Affinity = Literal["ip_hash", "consistent_hash"]


@dataclass(frozen=True)
class NginxSettings:
    """What the balancer does; times and sizes in nginx's own notation (`30s`, `10m`), already validated."""

    algorithm: Algorithm
    """How the API upstream picks a replica."""
    weights: tuple[int, ...]
    """`weighted`: one positive weight per upstream server, in server order; otherwise empty."""
    websocket_affinity: Affinity
    """How the WebSocket upstream keeps a client on one replica."""
    port: int
    max_fails: int
    fail_timeout: str
    keepalive: int
    """Idle upstream connections each worker keeps; 0: none."""
    keepalive_timeout: str
    connect_timeout: str
    read_timeout: str
    send_timeout: str
    websocket_timeout: str
    client_max_body_size: str
    worker_connections: int

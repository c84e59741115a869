"""The stack config's balancer section as the renderer's own model: the one place the two meet."""

from __future__ import annotations

from components.config import BalancerConfig
from nginx_conf import NginxSettings


def nginx_settings(balancer: BalancerConfig) -> NginxSettings:
    """`balancer` (validated) as nginx_conf renders it; the image and bind address stay with the container."""
    return NginxSettings(
        algorithm=balancer.algorithm,
        weights=tuple(balancer.weights),
        websocket_affinity=balancer.websocket_affinity,
        port=balancer.port,
        max_fails=balancer.max_fails,
        fail_timeout=balancer.fail_timeout,
        keepalive=balancer.keepalive,
        keepalive_timeout=balancer.keepalive_timeout,
        connect_timeout=balancer.connect_timeout,
        read_timeout=balancer.read_timeout,
        send_timeout=balancer.send_timeout,
        websocket_timeout=balancer.websocket_timeout,
        client_max_body_size=balancer.client_max_body_size,
        worker_connections=balancer.worker_connections,
    )

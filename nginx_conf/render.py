"""render_nginx_conf(): the balancer config plus the upstream servers, as nginx.conf text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.config import BalancerConfig


@dataclass(frozen=True)
class UpstreamServer:
    """One backend replica as nginx addresses it."""

    host: str
    port: int


@dataclass(frozen=True)
class NginxRuntime:
    """Where the rendered config runs: the Docker image and a test process differ in version and paths."""

    version: tuple[int, int, int]
    resolver: str | None = None
    listen_address: str = "0.0.0.0"
    user: str | None = "nginx"
    pid: str = "/var/run/nginx.pid"
    error_log: str = "/dev/stderr"
    access_log: str = "/dev/stdout"


def render_nginx_conf(balancer: BalancerConfig, servers: Sequence[UpstreamServer], runtime: NginxRuntime) -> str:
    """A first renderer: one upstream per algorithm, max_fails/fail_timeout per server, keepalive."""
    method = {"least_conn": "least_conn;", "ip_hash": "ip_hash;", "consistent_hash": "hash $binary_remote_addr consistent;"}
    weights = balancer.weights or [None] * len(servers)
    lines = [f"    {method[balancer.algorithm]}"] if balancer.algorithm in method else []
    for server, weight in zip(servers, weights):
        weight_part = f" weight={weight}" if weight else ""
        lines.append(
            f"    server {server.host}:{server.port}{weight_part} max_fails={balancer.max_fails} "
            f"fail_timeout={balancer.fail_timeout};"
        )
    upstream = "\n".join(lines)
    return f"""worker_processes auto;
pid {runtime.pid};
error_log {runtime.error_log} warn;
events {{ worker_connections {balancer.worker_connections}; }}
http {{
  access_log {runtime.access_log};
  upstream brain_backend {{
{upstream}
    keepalive {balancer.keepalive};
  }}
  server {{
    listen {runtime.listen_address}:{balancer.port};
    location / {{
      proxy_pass http://brain_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""

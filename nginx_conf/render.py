"""render_nginx_conf(): the balancer settings plus the upstream servers, as nginx.conf text.

The shape of the file is `nginx.conf.tmpl`; the functions here render its variable parts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import resource
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nginx_conf.settings import NginxSettings

TEMPLATE = Path(__file__).with_name("nginx.conf.tmpl")

RESOLVE_SINCE = (1, 27, 3)
"""The first open-source nginx whose upstream `server` takes `resolve` (names re-resolved while running)."""

RESOLVE_VALID = "10s"
"""How long a resolved replica address is trusted before nginx asks DNS again."""

LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
"""Always allowed /nginx_status and /metrics: nginx's own host (and the container's health check)."""

# Per algorithm: the upstream directive (None: nginx's default round robin) and why a reader would pick it.
_METHODS: dict[str, tuple[str | None, str]] = {
    "round_robin": (None, "Round robin (nginx's default): requests take turns over the replicas."),
    "weighted": (None, "Weighted round robin: a replica with weight=N gets N shares of the requests."),
    "least_conn": ("least_conn", "Least connections: each request goes to the replica with the fewest active ones."),
    "ip_hash": (
        "ip_hash",
        "Sticky by client IP. ip_hash buckets IPv4 clients by their first three octets, so a whole /24\n"
        "(one office NAT, say) lands on the same replica.",
    ),
    "consistent_hash": (
        "hash $binary_remote_addr consistent",
        "Sticky by the full client address (ip_hash would bucket IPv4 by /24); adding or removing a replica\n"
        "moves only about 1/N of the clients.",
    ),
}

_HOST_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_PLACEHOLDER_BLOCK = re.compile(r"^( *)\{\{(\w+)\}\}\n", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


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
    temp_dir: str | None = None
    """Where nginx buffers request and response bodies; None keeps the binary's built-in paths."""
    max_open_files: int | None = None
    """The hard descriptor limit nginx runs under (e.g. the container's ulimit); None: not known."""
    health_port: int | None = None
    """A loopback-only listener for the container's health check, on a port that no config key moves. A
    container replaced for a new `balancer.port` starts with its previous nginx.conf (uploads are ignored after
    creation) until the reload loads the current one: probing the public port would fail it before that."""
    internal_networks: tuple[str, ...] = ()
    """Besides loopback, the networks allowed /nginx_status and /metrics (dev: the stack's Docker network).
    Never a whole private range: with the port published on 0.0.0.0, every LAN host would be let in."""

    @classmethod
    def for_directory(cls, directory: str | os.PathLike[str], version: tuple[int, int, int]) -> NginxRuntime:
        """nginx run by a test process: pid, logs and temp files in `directory`, listening on 127.0.0.1.

        No `user`, except under root: there nginx would drop its workers to `nobody`, who cannot write
        the temp files in a private directory, so the workers stay root. The descriptor limit is this
        process's, which nginx inherits.
        """
        base = Path(directory).resolve()
        hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        return cls(
            version=version,
            listen_address="127.0.0.1",
            user="root" if os.geteuid() == 0 else None,
            pid=str(base / "nginx.pid"),
            error_log=str(base / "error.log"),
            access_log=str(base / "access.log"),
            temp_dir=str(base),
            max_open_files=None if hard_limit == resource.RLIM_INFINITY else hard_limit,
        )

    @property
    def re_resolves_servers(self) -> bool:
        """Whether upstream servers carry `resolve`: it needs a resolver and nginx 1.27.3 or later."""
        return self.resolver is not None and self.version >= RESOLVE_SINCE


def _health_server(port: int | None) -> str:
    """The health check's own server (see `NginxRuntime.health_port`), or nothing."""
    if port is None:
        return ""
    return (
        "# The container's health check: loopback only, on a port no config key moves.\n"
        "server {\n"
        f"    listen 127.0.0.1:{port};\n"
        "    access_log off;\n"
        "    location = /nginx_status {\n"
        "        stub_status;\n"
        "        allow 127.0.0.1;\n"
        "        deny all;\n"
        "    }\n"
        "    location / {\n"
        "        return 404;\n"
        "    }\n"
        "}"
    )


def render_nginx_conf(balancer: NginxSettings, servers: Sequence[UpstreamServer], runtime: NginxRuntime) -> str:
    """The whole nginx.conf: an API upstream per `balancer.algorithm`, a sticky WebSocket upstream, routing."""
    if not servers:
        raise ValueError("render_nginx_conf needs at least one upstream server, got none")
    weights = _weights(balancer, len(servers))
    return _fill(
        TEMPLATE.read_text(),
        {
            "user": f"user {runtime.user};" if runtime.user else "",
            "pid": runtime.pid,
            "error_log": runtime.error_log,
            "access_log": runtime.access_log,
            "worker_connections": str(balancer.worker_connections),
            "worker_rlimit_nofile": str(_worker_open_files(balancer, runtime)),
            "temp_paths": _temp_paths(runtime.temp_dir),
            "resolver": _resolver(runtime),
            "api_upstream": _upstream(
                "brain_backend", balancer.algorithm, servers, weights, balancer, runtime, keepalive_pool=True
            ),
            # Weights describe a replica's capacity, so they shape the WebSocket placement too.
            "websocket_upstream": _upstream(
                "brain_websocket", balancer.websocket_affinity, servers, weights, balancer, runtime, keepalive_pool=False
            ),
            "listen": _address(runtime.listen_address, balancer.port),
            "client_max_body_size": balancer.client_max_body_size,
            "api_headers": _proxy_headers(connection='""'),
            "websocket_headers": "# A location's own proxy_set_header replaces the server's list: all of it again.\n"
            + _proxy_headers(connection="$connection_upgrade", upgrade=True),
            "connect_timeout": balancer.connect_timeout,
            "read_timeout": balancer.read_timeout,
            "send_timeout": balancer.send_timeout,
            # One try per replica: a request never goes round the group twice.
            "next_upstream_tries": str(len(servers)),
            "websocket_timeout": balancer.websocket_timeout,
            "internal_only": _internal_only(runtime.internal_networks),
            "health_server": _health_server(runtime.health_port),
        },
    )


def _weights(balancer: NginxSettings, server_count: int) -> list[int | None]:
    """One weight per server (None: nginx's default 1); config validation already enforces the counts."""
    if balancer.algorithm != "weighted":
        if balancer.weights:
            raise ValueError(
                f"balancer.weights {list(balancer.weights)} is only allowed with balancer.algorithm 'weighted' "
                f"(got {balancer.algorithm!r})"
            )
        return [None] * server_count
    if len(balancer.weights) != server_count:
        raise ValueError(
            f"balancer.weights has {len(balancer.weights)} entries for {server_count} upstream servers; "
            "give one positive weight per server, in server order"
        )
    return list(balancer.weights)


def _upstream(
    name: str,
    method: str,
    servers: Sequence[UpstreamServer],
    weights: Sequence[int | None],
    balancer: NginxSettings,
    runtime: NginxRuntime,
    *,
    keepalive_pool: bool,
) -> str:
    """One upstream block. A WebSocket keeps its upstream connection for good, so it has no idle pool."""
    directive, why = _METHODS[method]
    lines = [f"# {line}" for line in why.splitlines()]
    lines += [
        f"upstream {name} {{",
        "    # Shared memory: every worker sees the same failure counts (and least_conn the same connection counts).",
        f"    zone {name} 64k;",
    ]
    if directive:
        lines.append(f"    {directive};")
    resolve = " resolve" if runtime.re_resolves_servers else ""
    for server, weight in zip(servers, weights, strict=True):
        weight_part = f" weight={weight}" if weight is not None else ""
        lines.append(
            f"    server {_address(server.host, server.port)}{weight_part} "
            f"max_fails={balancer.max_fails} fail_timeout={balancer.fail_timeout}{resolve};"
        )
    if keepalive_pool and balancer.keepalive > 0:
        lines += [
            "    # Idle connections each worker keeps open to the replicas, so requests skip the TCP handshake.",
            f"    keepalive {balancer.keepalive};",
            f"    keepalive_timeout {balancer.keepalive_timeout};",
        ]
    lines.append("}")
    return "\n".join(lines)


def _worker_open_files(balancer: NginxSettings, runtime: NginxRuntime) -> int:
    """Twice worker_connections (see the template), but never more than nginx may raise its limit to."""
    wanted = 2 * balancer.worker_connections
    return wanted if runtime.max_open_files is None else min(wanted, runtime.max_open_files)


def _resolver(runtime: NginxRuntime) -> str:
    if not runtime.re_resolves_servers:
        return ""
    return (
        f"# Replica names are re-resolved every {RESOLVE_VALID} (the upstream servers carry `resolve`), so a\n"
        "# replaced replica's new address is found without a reload.\n"
        f"resolver {runtime.resolver} valid={RESOLVE_VALID} ipv6=off;"
    )


def _temp_paths(temp_dir: str | None) -> str:
    if temp_dir is None:
        return ""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "\n".join(
        ["# Buffered bodies go under the runtime's directory; nginx creates every kind's directory at start."]
        + [f"{kind}_temp_path {temp_dir}/{kind}_temp;" for kind in kinds]
    )


def _proxy_headers(connection: str, upgrade: bool = False) -> str:
    """What every replica learns about the request; WebSockets add the upgrade handshake."""
    headers = [
        ("Host", "$host"),
        ("X-Real-IP", "$remote_addr"),
        ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Request-ID", "$brain_request_id"),
        *([("Upgrade", "$http_upgrade")] if upgrade else []),
        ("Connection", connection),
    ]
    return "\n".join(f"proxy_set_header {name} {value};" for name, value in headers)


def _internal_only(networks: Sequence[str]) -> str:
    """Loopback and `networks` allowed, everyone else 403; a network nginx could misread is refused."""
    allowed: list[str] = []
    for network in (*LOOPBACK_NETWORKS, *networks):
        try:
            allowed.append(str(ipaddress.ip_network(network)))
        except ValueError:
            raise ValueError(f"internal network {network!r} is not an IP network such as 172.30.0.0/24") from None
    return "\n".join([f"allow {network};" for network in dict.fromkeys(allowed)] + ["deny all;"])


def _address(host: str, port: int) -> str:
    """`host:port` as nginx reads it (IPv6 in brackets); anything that could break the config is refused."""
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} of {host!r} is outside 1..65535")
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        if not _HOST_NAME.match(host):
            raise ValueError(
                f"{host!r} is not an IP address or host name (letters, digits, '.', '-', '_')"
            ) from None
    return f"{host}:{port}"


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}`; a placeholder alone on its line takes a block indented to its column (empty: no line)."""

    def block(match: re.Match[str]) -> str:
        indent, name = match.groups()
        return "".join(f"{indent}{line}\n" if line else "\n" for line in values[name].splitlines())

    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], _PLACEHOLDER_BLOCK.sub(block, template))

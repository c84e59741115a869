"""The whole stack config (namespace `brain`) as one validated pydantic model.

This is the only module that reads `pulumi.Config`; components receive the validated models.
Every problem is reported at once, one line each, naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic_core import ErrorDetails
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

import pulumi

from components import node_capacity

NAMESPACE = "brain"
BACKEND_IDLE_TIMEOUT_SECONDS = 75
"""How long the backends keep an idle keep-alive connection (the reference backend's default)."""

_NGINX_TIME_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "": 1}
_BYTES_PER_UNIT = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_VERSION_TAG = re.compile(r":(\d+)\.(\d+)(?:\.(\d+))?(?:[-@]|$)")
_QDRANT_TAG = re.compile(r":v(\d+)\.(\d+)\.\d+(?:@|$)")


def nginx_seconds(value: str) -> float:
    """Seconds in an nginx time value such as `1m30s` (used where a target wants a number)."""
    return sum(
        int(amount) * _NGINX_TIME_UNITS[unit]
        for amount, unit in re.findall(r"(\d+)(ms|s|m|h|d|)", value)
    )


def _text(pattern: str, expected: str, also: Callable[[str], bool] = lambda _: True) -> AfterValidator:
    """A string check: `pattern` must match the whole value and `also` hold, else say what is `expected`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value) or not also(value):
            raise ValueError(f"expected {expected}")
        return value

    return AfterValidator(check)


_IMAGE = r"[\w.\-/:]+:[\w.\-]+(?:@sha256:[0-9a-f]{64})?"
_PINNED = "an image pinned to a version tag, such as redis:8.2.3-alpine (not :latest)"


def _not_latest(image: str) -> bool:
    return not image.endswith(":latest")


def _is_network(cidr: str) -> bool:
    """A network address with no host bits set (`10.0.0.0/16`, not `10.0.0.1/16`)."""
    try:
        ipaddress.IPv4Network(cidr)
    except ValueError:
        return False
    return True


def _nginx_time(units: tuple[str, ...], expected: str) -> AfterValidator:
    """nginx reads a time's units from the largest down, each at most once (1m30s, never 30s1m or 1s1s)."""
    pattern = r"(?=\d)" + "".join(rf"(?:\d+{unit})?" for unit in units) + r"|\d+"
    return _text(pattern, f"a positive nginx time {expected}", lambda t: nginx_seconds(t) > 0)


PinnedImage = Annotated[str, _text(_IMAGE, _PINNED, _not_latest)]
OptionalPinnedImage = Annotated[str, _text(f"(?:{_IMAGE})?", f"{_PINNED}, or empty", _not_latest)]
NginxTime = Annotated[
    str, _nginx_time(("d", "h", "m", "s", "ms"), "such as 500ms, 30s, 1m30s or 1h (units largest first, each once)")
]
NginxSeconds = Annotated[
    str, _nginx_time(("d", "h", "m", "s"), "in whole seconds such as 10s, 1m30s or 1h (nginx takes no ms here)")
]
NginxSize = Annotated[str, _text(r"\d+[kKmMgG]?", "an nginx size such as 512k, 10m or 1g")]
CpuQuantity = Annotated[str, _text(r"\d+m|\d+(?:\.\d+)?", "a Kubernetes CPU quantity such as 500m or 1")]
MemoryQuantity = Annotated[str, _text(r"\d+(?:Ki|Mi|Gi|Ti|k|M|G|T)?", "a Kubernetes memory quantity such as 512Mi or 1Gi")]
Ipv4Network = Annotated[
    str, _text(r"(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}", "an IPv4 network such as 203.0.113.0/24", _is_network)
]
VpcNetwork = Annotated[
    str,
    _text(
        r"(?:\d{1,3}\.){3}\d{1,3}/(?:1[6-9]|20)",
        "an IPv4 network from /16 to /20 (room for three zones' nodes and pods), such as 10.0.0.0/16",
        _is_network,
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]
Percent = Annotated[int, Field(ge=1, le=100)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Strict):
    """Per-replica requests (eks) and limits (docker and eks)."""

    cpu: CpuQuantity = "500m"
    memory: MemoryQuantity = "512Mi"

    @property
    def cpu_cores(self) -> float:
        """`cpu` in cores, as Docker's `--cpus` takes it."""
        return int(self.cpu[:-1]) / 1000 if self.cpu.endswith("m") else float(self.cpu)

    @property
    def requests(self) -> node_capacity.Requests:
        """As the scheduler adds them up (eks requests equal limits)."""
        return node_capacity.Requests(round(self.cpu_cores * 1000), self.memory_mb)

    @property
    def memory_mb(self) -> int:
        """`memory` in MiB, as the Docker provider's `memory` takes it."""
        amount = int(self.memory.rstrip("KMGTik"))
        unit = self.memory[len(str(amount)) :]
        return max(1, amount * _BYTES_PER_UNIT[unit] // 2**20)


class Autoscaling(_Strict):
    """HPA bounds and targets (eks)."""

    min_replicas: Annotated[int, Field(ge=1)] = 3
    max_replicas: Annotated[int, Field(ge=1)] = 10
    cpu_utilization: Percent = 70
    memory_utilization: Percent = 80


class BackendConfig(_Strict):
    """The BRAiN Core replicas."""

    replicas: Annotated[int, Field(ge=1, le=64)] = 3
    image: OptionalPinnedImage = Field(
        default="", description="empty: build the reference backend from ./backend"
    )
    port: Port = 8000
    resources: Resources = Resources()
    autoscaling: Autoscaling = Autoscaling()


_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_DNS_NAME = r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"


class TlsConfig(_Strict):
    """HTTPS on the public endpoint (eks): a Let's Encrypt certificate from cert-manager (HTTP-01 through the
    ingress controller), plain HTTP redirected to HTTPS."""

    enabled: bool = True
    issuer: Literal["letsencrypt", "letsencrypt_staging"] = Field(
        default="letsencrypt", description="letsencrypt_staging: untrusted certificates, generous rate limits"
    )
    email: Annotated[str, _text(f"(?:{_EMAIL})?", "an e-mail address such as ops@your-domain.org")] = Field(
        default="", description="the ACME account's contact: Let's Encrypt writes there about expiring certificates"
    )


Algorithm = Literal["round_robin", "least_conn", "ip_hash", "weighted", "consistent_hash"]
Affinity = Literal["ip_hash", "consistent_hash"]


class BalancerConfig(_Strict):
    """The nginx load balancer in front of the replicas."""

    algorithm: Algorithm = "round_robin"
    weights: list[Annotated[int, Field(ge=1, le=1000)]] = []
    websocket_affinity: Affinity = "ip_hash"
    image: PinnedImage = "nginx:1.29.3-alpine"
    port: Port = 8000
    bind_address: str = Field(default="127.0.0.1", pattern=r"^(?:\d{1,3}\.){3}\d{1,3}$")
    max_fails: Annotated[int, Field(ge=0, le=100)] = 3
    fail_timeout: NginxSeconds = "30s"
    keepalive: Annotated[int, Field(ge=0, le=10000)] = 32
    keepalive_timeout: NginxTime = "60s"
    connect_timeout: NginxTime = "5s"
    read_timeout: NginxTime = "60s"
    send_timeout: NginxTime = "60s"
    websocket_timeout: NginxTime = "3600s"
    client_max_body_size: NginxSize = "10m"
    # At most 32768: a proxied connection holds two descriptors, and the container allows 65536.
    worker_connections: Annotated[int, Field(ge=512, le=32768)] = 16384
    tls: TlsConfig = TlsConfig()

    @property
    def nginx_version(self) -> tuple[int, int, int]:
        """The nginx version of `image`, read from its pinned tag (the renderer adapts to it)."""
        match = _VERSION_TAG.search(self.image)
        if match is None:
            raise ValueError(f"balancer.image {self.image!r} has no x.y[.z] version tag")
        major, minor, patch = match.groups()
        return int(major), int(minor), int(patch or 0)

    @model_validator(mode="after")
    def _image_names_a_version(self) -> BalancerConfig:
        if _VERSION_TAG.search(self.image) is None:
            raise ValueError(f"balancer.image {self.image!r} must carry an nginx version tag such as nginx:1.29.3-alpine")
        return self


class PostgresConfig(_Strict):
    """PostgreSQL: a container on docker; RDS (managed) or a StatefulSet (in_cluster) on eks."""

    image: PinnedImage = "postgres:17.7-alpine"
    # The major version only: RDS applies minor upgrades by itself (auto_minor_version_upgrade), and a pinned
    # minor would make the next `pulumi up` plan a downgrade that RDS refuses.
    engine_version: Annotated[
        str, _text(r"\d+", "a PostgreSQL major version such as 17 (RDS upgrades the minor)")
    ] = "17"
    instance_class: str = "db.t4g.medium"
    storage_gb: Annotated[int, Field(ge=20, le=65536)] = 20
    database: str = Field(default="brain", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    user: str = Field(default="brain", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    resources: Resources = Field(default=Resources(), description="eks in_cluster: the pod's requests and limits")


class RedisConfig(_Strict):
    """Redis (shared state, WebSocket pub/sub): a container, or ElastiCache Valkey on eks."""

    image: PinnedImage = "redis:8.2.3-alpine"
    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: str = "8.1"
    node_type: str = "cache.t4g.small"
    resources: Resources = Field(default=Resources(), description="eks in_cluster: the pod's requests and limits")


class QdrantConfig(_Strict):
    """Qdrant (vectors): a container, or its Helm chart on eks."""

    image: PinnedImage = "qdrant/qdrant:v1.19.0"
    chart_version: str = Field(default="1.19.0", pattern=r"^\d+\.\d+\.\d+$")
    storage_gb: Annotated[int, Field(ge=1, le=65536)] = 10
    resources: Resources = Field(default=Resources(), description="eks: the pod's requests and limits")


class DataConfig(_Strict):
    """The shared data tier."""

    mode: Literal["managed", "in_cluster"] = Field(
        default="managed", description="eks: AWS-managed PostgreSQL and Redis, or in-cluster charts"
    )
    publish_ports: bool = Field(default=False, description="docker: publish data ports on 127.0.0.1")
    postgres: PostgresConfig = PostgresConfig()
    redis: RedisConfig = RedisConfig()
    qdrant: QdrantConfig = QdrantConfig()


InstanceTypeName = Annotated[
    str,
    _text(
        r"[a-z0-9]+\.[a-z0-9]+",
        "an instance type whose allocatable components/node_capacity.py knows: "
        + ", ".join(sorted(node_capacity.INSTANCE_TYPES)),
        lambda name: name in node_capacity.INSTANCE_TYPES,
    ),
]
EKS_STANDARD_SUPPORT_UNTIL = {"1.35": "2027-03-27", "1.36": "2027-08-02"}
"""The EKS versions this program supports: in standard support, with its last day (EKS version calendar)."""
EksVersion = Annotated[
    str,
    _text(
        r"1\.\d+",
        "an EKS version in standard support: "
        + ", ".join(f"{version} (until {until})" for version, until in EKS_STANDARD_SUPPORT_UNTIL.items()),
        lambda version: version in EKS_STANDARD_SUPPORT_UNTIL,
    ),
]


class NodeGroupConfig(_Strict):
    """The EKS managed node group the replicas run on; the node autoscaler moves it between min and max."""

    instance_types: list[InstanceTypeName] = Field(default=["m7i.large"], min_length=1)
    min_size: Annotated[int, Field(ge=1)] = 2
    desired_size: Annotated[int, Field(ge=1)] = 3
    max_size: Annotated[int, Field(ge=1)] = 6


class ClusterConfig(_Strict):
    """The EKS cluster (eks only)."""

    region: str = Field(default="eu-central-1", pattern=r"^[a-z]{2}(?:-[a-z]+)+-\d$")
    version: EksVersion = "1.36"
    vpc_cidr: VpcNetwork = "10.0.0.0/16"
    api_access_cidrs: list[Ipv4Network] | None = Field(
        default=None,
        description="who may reach the Kubernetes API's public endpoint; [] for the private endpoint only. "
        "Required for eks: no open default",
    )
    node_group: NodeGroupConfig = NodeGroupConfig()
    node_autoscaler: Literal["cluster_autoscaler"] = Field(
        default="cluster_autoscaler", description="what adds nodes when pods are Pending (README: why this one)"
    )
    host: str = Field(default="brain.example.com", description="the VirtualServer's host name")


def _is_private_subnet(cidr: str) -> bool:
    return _is_network(cidr) and ipaddress.IPv4Network(cidr).is_private and 16 <= int(cidr.split("/")[1]) <= 28


class NetworkConfig(_Strict):
    """The dev target's Docker network (docker only)."""

    subnet: Annotated[
        str,
        _text(
            r"(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}",
            "a private IPv4 network from /16 to /28 that no other Docker network uses, such as 172.28.89.0/24",
            _is_private_subnet,
        ),
    ] = Field(
        default="172.28.89.0/24",
        description="the containers' addresses; the only ones besides loopback nginx serves /nginx_status and /metrics",
    )


_PROMETHEUS_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def prometheus_seconds(value: str) -> float:
    """Seconds in a Prometheus duration such as `1m30s`."""
    return sum(int(amount) * _PROMETHEUS_UNITS[unit] for amount, unit in re.findall(r"(\d+)(ms|[ywdhms])", value))


def _prometheus_duration(low: float, high: float, expected: str) -> AfterValidator:
    """A Prometheus duration (units largest first, each once) from `low` to `high` seconds."""
    pattern = r"(?=\d)" + "".join(rf"(?:\d+{unit})?" for unit in _PROMETHEUS_UNITS)
    return _text(pattern, expected, lambda value: low <= prometheus_seconds(value) <= high)


class AlertThresholds(_Strict):
    """When the alert rules fire (the same in dev and prod)."""

    error_ratio_percent: Annotated[float, Field(gt=0, le=100)] = 5
    """A replica's share of 5xx answers, held for 5 minutes."""
    p95_latency_ms: Annotated[int, Field(ge=1, le=600_000)] = 500
    """A replica's 95th percentile latency, held for 10 minutes."""
    traffic_share_factor: Annotated[float, Field(gt=1, le=100)] = 2
    """A replica taking more than this many times its fair share (1/N) of the requests, held for 10 minutes."""


class MonitoringConfig(_Strict):
    """Prometheus (backends and nginx scraped, rules, alerts) and Grafana with the load-distribution dashboard."""

    enabled: bool = True
    prometheus_image: PinnedImage = "prom/prometheus:v3.7.3"
    exporter_image: PinnedImage = "nginx/nginx-prometheus-exporter:1.4.0"
    grafana_image: PinnedImage = "grafana/grafana:12.4.3"
    prometheus_port: Port = 9090
    """docker: Prometheus on 127.0.0.1 at this port."""
    grafana_port: Port = 3000
    """docker: Grafana on 127.0.0.1 at this port."""
    scrape_interval: Annotated[
        str,
        _prometheus_duration(
            1, 60, "a Prometheus duration from 1s to 1m such as 15s (the rules' 5m windows need several scrapes)"
        ),
    ] = "15s"
    """How often every target is scraped and the rules evaluated."""
    retention: Annotated[
        str, _prometheus_duration(2 * 3600, 10 * 365 * 86400, "a Prometheus duration from 2h to 10y such as 15d")
    ] = "15d"
    """How long Prometheus keeps samples."""
    alerts: AlertThresholds = AlertThresholds()


class StackConfig(_Strict):
    """Everything under `brain:` in Pulumi.<stack>.yaml."""

    target: Literal["docker", "eks"]
    backend: BackendConfig = BackendConfig()
    balancer: BalancerConfig = BalancerConfig()
    data: DataConfig = DataConfig()
    cluster: ClusterConfig = ClusterConfig()
    network: NetworkConfig = NetworkConfig()
    monitoring: MonitoringConfig = MonitoringConfig()

    @model_validator(mode="after")
    def _cross_field_rules(self) -> StackConfig:
        problems = []
        balancer, backend = self.balancer, self.backend
        if nginx_seconds(balancer.keepalive_timeout) >= BACKEND_IDLE_TIMEOUT_SECONDS:
            problems.append(
                f"balancer.keepalive_timeout {balancer.keepalive_timeout!r} must be below "
                f"{BACKEND_IDLE_TIMEOUT_SECONDS}s: the backends close idle connections then, and nginx must "
                "close its pooled ones first or a request can meet a connection the backend is closing"
            )
        if balancer.algorithm == "weighted":
            if self.target == "eks":
                problems.append(
                    "balancer.algorithm 'weighted' is not possible on target eks (pods carry no weights); "
                    "use round_robin, least_conn, ip_hash or consistent_hash"
                )
            elif len(balancer.weights) != backend.replicas:
                problems.append(
                    f"balancer.weights has {len(balancer.weights)} entries but backend.replicas is "
                    f"{backend.replicas}; give one positive weight per replica"
                )
        elif balancer.weights:
            problems.append(
                f"balancer.weights {balancer.weights} is only allowed with balancer.algorithm 'weighted' "
                f"(got {balancer.algorithm!r})"
            )
        autoscaling = backend.autoscaling
        if autoscaling.min_replicas > autoscaling.max_replicas:
            problems.append(
                f"backend.autoscaling.min_replicas {autoscaling.min_replicas} is greater than "
                f"backend.autoscaling.max_replicas {autoscaling.max_replicas}"
            )
        nodes = self.cluster.node_group
        if not nodes.min_size <= nodes.desired_size <= nodes.max_size:
            problems.append(
                f"cluster.node_group sizes must satisfy min_size <= desired_size <= max_size "
                f"(got {nodes.min_size}, {nodes.desired_size}, {nodes.max_size})"
            )
        if self.target == "eks":
            problems += self._eks_platform_problems()
        if self.target == "docker" and self.data.mode != "managed" and "mode" in self.data.model_fields_set:
            problems.append(f"data.mode {self.data.mode!r} applies to target eks only; remove it for docker")
        if self.target == "eks" and "replicas" in backend.model_fields_set:
            problems.append(
                f"backend.replicas {backend.replicas} applies to target docker only; on eks the autoscaler owns "
                "the count: set backend.autoscaling.min_replicas and max_replicas instead"
            )
        qdrant = self.data.qdrant
        qdrant_version, chart_minor = _QDRANT_TAG.search(qdrant.image), qdrant.chart_version.split(".")[:2]
        if qdrant_version is None or list(qdrant_version.groups()) != chart_minor:
            problems.append(
                f"data.qdrant.image {qdrant.image!r} must be tagged v{'.'.join(chart_minor)}.<patch> to match "
                f"data.qdrant.chart_version {qdrant.chart_version!r}: the chart configures its own Qdrant version, "
                "and both targets run the same one"
            )
        if self.target == "eks" and "@" in qdrant.image:
            problems.append(
                f"data.qdrant.image {qdrant.image!r} cannot carry a digest on target eks: the Qdrant chart "
                "parses the image tag as a version; pin the tag alone"
            )
        problems += self._tls_problems()
        if self.target == "eks" and not backend.image:
            problems.append(
                "backend.image is required for target eks (the cluster pulls the replicas' image from a registry); "
                "set it to a pinned image such as ghcr.io/brain/brain-core:1.0.0"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _eks_platform_problems(self) -> list[str]:
        """The API endpoint must be chosen, and the pods at the HPA maximum must fit on the largest node pool."""
        problems = []
        if self.cluster.api_access_cidrs is None:
            problems.append(
                "cluster.api_access_cidrs is required for target eks (no open default): the networks that may reach "
                "the Kubernetes API's public endpoint, such as your office or CI egress [203.0.113.0/24], "
                "or [] for the private endpoint only (then run pulumi from inside the VPC)"
            )
        nodes, autoscaling, resources = self.cluster.node_group, self.backend.autoscaling, self.backend.resources
        stores = (self.data.postgres.resources.requests, self.data.redis.resources.requests)
        pods = node_capacity.pods_at_hpa_maximum(
            resources.requests,
            autoscaling.max_replicas,
            monitoring=self.monitoring.enabled,
            in_cluster_data=self.data.mode == "in_cluster",
            tls=self.balancer.tls.enabled,
            qdrant=self.data.qdrant.resources.requests,
            store=max(stores, key=lambda requests: (requests.cpu_millis, requests.memory_mib)),
        )
        instance_type = node_capacity.smallest(nodes.instance_types)
        plan = node_capacity.place(pods, instance_type, nodes.max_size)
        if plan.unplaced:
            needed = node_capacity.nodes_needed(pods, instance_type)
            remedy = f"raise it to {needed}" if needed else "no number of these nodes holds a replica"
            problems.append(
                f"cluster.node_group.max_size {nodes.max_size} is too small: at the HPA maximum "
                f"(backend.autoscaling.max_replicas {autoscaling.max_replicas} x backend.resources "
                f"{resources.cpu}/{resources.memory}) with the system pods, {len(plan.unplaced)} pods "
                f"({', '.join(sorted(set(plan.unplaced)))}) find no room on {nodes.max_size} x {instance_type} "
                f"(allocatable each: {node_capacity.INSTANCE_TYPES[instance_type].allocatable}); {remedy}, "
                "or choose larger cluster.node_group.instance_types"
            )
        return problems


    def _tls_problems(self) -> list[str]:
        """TLS needs a name Let's Encrypt can reach over HTTP-01 (no wildcard, no address) and a contact."""
        tls = self.balancer.tls
        if self.target == "docker":
            if "tls" in self.balancer.model_fields_set:
                return ["balancer.tls applies to target eks only (dev serves plain HTTP on 127.0.0.1); remove it for docker"]
            return []
        if not tls.enabled:
            return []
        problems = []
        if not re.fullmatch(_DNS_NAME, self.cluster.host):
            problems.append(
                f"cluster.host {self.cluster.host!r} must be a DNS name such as api.your-domain.org while "
                "balancer.tls.enabled is true (the certificate is issued for it; set balancer.tls.enabled false for plain HTTP)"
            )
        if not tls.email:
            problems.append(
                "balancer.tls.email is required while balancer.tls.enabled is true: Let's Encrypt's contact for "
                "expiry notices, such as ops@your-domain.org"
            )
        return problems


class ConfigError(pulumi.RunError):
    """Invalid stack config; the message has one line per problem. Pulumi prints it without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  {p}" for p in problems))


def _describe(error: ErrorDetails) -> list[str]:
    """One line per problem: `brain:<key> = <value>: <what is allowed>`."""
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return [f"{NAMESPACE}:{line}" for line in message.splitlines()]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    if error["type"] == "extra_forbidden":
        return [f"{NAMESPACE}:{key} is not a known key; check its spelling against the README's config reference"]
    if error["type"] == "missing":
        return [f"{NAMESPACE}:{key} is required"]
    return [f"{NAMESPACE}:{key} = {error['input']!r}: {message}"]


def parse_stack_config(raw: dict[str, Any]) -> StackConfig:
    """Validate raw config values (already parsed from YAML/JSON); raise ConfigError listing every problem."""
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as invalid:
        raise ConfigError([line for error in invalid.errors() for line in _describe(error)]) from None


def load_stack_config() -> StackConfig:
    """Read every `brain:*` key of the current stack and validate it."""
    config = pulumi.Config(NAMESPACE)
    # The CLI hands config over in PULUMI_CONFIG; mocks and the offline render set it in-process.
    keys = {*pulumi.runtime.get_config_env(), *pulumi.runtime.config.CONFIG.get()}
    raw: dict[str, Any] = {}
    for full_key in sorted(keys):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            raw[key] = config.get(key) if key == "target" else config.get_object(key)
    return parse_stack_config(raw)

"""The whole stack config (namespace `brain`) as one validated pydantic model.

This is the only module that reads `pulumi.Config`; components receive the validated models.
Every problem is reported at once, one line each, naming the key, the bad value and what is allowed.
Values are taken as written, never coerced: `true` is no number, `"3"` no integer, `10` no time.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, ValidationError
from pydantic_core import ErrorDetails, core_schema

import pulumi

from components import node_capacity

NAMESPACE = "brain"
BACKEND_IDLE_TIMEOUT_SECONDS = 75
"""How long the backends keep an idle keep-alive connection (the reference backend's default)."""

DATA_PORTS = {"postgres": 5432, "redis": 6379, "qdrant": 6333}
"""docker: the host ports the data tier is published on when `data.publish_ports` (components/docker/data_tier.py)."""

NGINX_MAX_MILLISECONDS = 2**63 - 1
"""nginx keeps a time in a signed 64-bit count of milliseconds (ngx_parse_time refuses more; checked with
`nginx -t` on 1.22: 9223372036854775807ms and 9223372036854775s pass, one more is "invalid value")."""
NGINX_MAX_BYTES = 2**63 - 1
"""nginx keeps a size such as client_max_body_size in an off_t (ngx_parse_offset: 8589934591g passes, 8589934592g
is "invalid value")."""
_NGINX_TIME_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1, "": 1000}
_NGINX_SIZE_BYTES = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_MEMORY_BYTES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_MEMORY_BYTES |= {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
OLDEST_NGINX = (1, 15, 3)
"""The oldest nginx the rendered nginx.conf runs on: upstream `keepalive_timeout` is new in 1.15.3 (the other
directives it uses are older: log_format `escape=json` 1.11.8, `$request_id` 1.11.0, upstream `zone` 1.9.0,
`proxy_next_upstream_tries` 1.7.5, `hash ... consistent` 1.7.2); `resolve` (1.27.3) is left out before its version."""
DOCKER_MIN_CPUS = 0.01
"""Docker refuses `--cpus` below 0.01 ("Range of CPUs is from 0.01 to ...")."""
DOCKER_MIN_MEMORY_BYTES = 6 * 2**20
"""Docker refuses a memory limit below 6 MiB ("Minimum memory limit allowed is 6MB")."""
MAX_CPUS = 1024
MAX_MEMORY_BYTES = 32 * 2**40
"""Upper bounds for one replica: no EC2 instance (where a replica runs) has more (the largest: 896 vCPUs, 32 TiB)."""


_QDRANT_TAG = re.compile(r":v(\d+)\.(\d+)\.\d+(?:@|$)")
"""The Qdrant version of a `data.qdrant.image` tag (its chart configures the same version)."""


def nginx_milliseconds(value: str) -> int:
    """Milliseconds in an nginx time such as `1m30s` (a bare number is seconds, as nginx reads it)."""
    return sum(int(amount) * _NGINX_TIME_MS[unit] for amount, unit in re.findall(r"([0-9]+)(ms|s|m|h|d|)", value))


def nginx_seconds(value: str) -> float:
    """Seconds in an nginx time such as `1m30s` (used where a target wants a number)."""
    return nginx_milliseconds(value) / 1000


def _nginx_bytes(value: str) -> int:
    return int(value.rstrip("kKmMgG")) * _NGINX_SIZE_BYTES[value[-1].lower() if value[-1] in "kKmMgG" else ""]


def _memory_bytes(value: str) -> int:
    amount = value.rstrip("KMGTik")
    return int(amount) * _MEMORY_BYTES[value[len(amount) :]]


def _cpu_cores(value: str) -> float:
    return int(value[:-1]) / 1000 if value.endswith("m") else float(value)


def _what(value: object) -> str:
    """How a wrongly typed value reads to its author (YAML's types, not Python's)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class TextRule:
    """A text value (ASCII only) that matches `pattern` whole and that `also` does not object to; else refused with
    `expected ...`, and a YAML number in its place with `number_hint` (e.g. "add a unit"). Made by `_text`."""

    def __init__(
        self,
        pattern: str,
        expected: str,
        also: Callable[[str], bool | str | None],
        number_hint: Callable[[float], str] | None,
    ):
        self.pattern = re.compile(pattern, re.ASCII)
        self.expected, self.also, self.number_hint = expected, also, number_hint

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        checked = core_schema.no_info_after_validator_function(self._check, handler(source))
        return core_schema.no_info_before_validator_function(self._only_text, checked)

    def _only_text(self, value: object) -> object:
        if isinstance(value, str):
            return value
        if self.number_hint is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"expected {self.expected}; {self.number_hint(value)}")
        raise ValueError(f"expected {self.expected}, not {_what(value)}")

    def _check(self, value: str) -> str:
        if not self.pattern.fullmatch(value):
            raise ValueError(f"expected {self.expected}")
        verdict = self.also(value)
        if verdict is False:
            raise ValueError(f"expected {self.expected}")
        if isinstance(verdict, str) and verdict:
            raise ValueError(f"expected {self.expected}: {verdict}")
        return value


def _text(
    pattern: str,
    expected: str,
    also: Callable[[str], bool | str | None] = lambda _: None,
    number_hint: Callable[[float], str] | None = None,
) -> TextRule:
    """A text check for `Annotated[str, _text(...)]`: `also` answers True/None (fine), False, or what is wrong."""
    return TextRule(pattern, expected, also, number_hint)


def _add_unit(unit: str) -> Callable[[float], str]:
    return lambda number: f"a plain number has no unit: add one, such as {number if number > 0 else 10:g}{unit}"


def _quote_it(number: float) -> str:
    return (
        f'write it as text: quote it in YAML ("{number:g}"; unquoted, 17.10 would become 17.1), or use '
        "`pulumi config set --path --type string`"
    )


def _within_nginx_limit(amount: int, limit: int, limit_text: str, zero_means: str = "") -> str | None:
    if amount <= 0:
        return f"it must be positive{zero_means}"
    if amount > limit:
        return f"at most {limit_text}, nginx's limit"
    return None


def _nginx_time(units: tuple[str, ...], expected: str) -> TextRule:
    """nginx reads a time's units from the largest down, each at most once (1m30s, never 30s1m or 1s1s)."""
    pattern = "(?=[0-9])" + "".join(f"(?:[0-9]+{unit})?" for unit in units) + "|[0-9]+"
    limit = f"{NGINX_MAX_MILLISECONDS}ms (about 292 million years)"
    return _text(
        pattern,
        f"a positive nginx time {expected}",
        lambda value: _within_nginx_limit(nginx_milliseconds(value), NGINX_MAX_MILLISECONDS, limit),
        _add_unit("s"),
    )


def _nginx_size(value: str) -> str | None:
    limit = f"{NGINX_MAX_BYTES // 2**30}g"
    return _within_nginx_limit(_nginx_bytes(value), NGINX_MAX_BYTES, limit, " (nginx reads 0 as unlimited)")


def _cpu(value: str) -> str | None:
    cores = _cpu_cores(value)
    if not DOCKER_MIN_CPUS <= cores <= MAX_CPUS:
        return f"from 10m (Docker's minimum, 0.01 cores) to {MAX_CPUS} cores"
    return None


def _memory(value: str) -> str | None:
    if not DOCKER_MIN_MEMORY_BYTES <= _memory_bytes(value) <= MAX_MEMORY_BYTES:
        return "from 6Mi (Docker's minimum) to 32Ti"
    return None


def _host_address(value: str) -> str | None:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return "each of the four numbers is 0..255, without leading zeros"
    if address.is_multicast or address.is_reserved:
        return "a multicast or reserved address is no host address"
    return None


def _network_problem(cidr: str) -> str | None:
    """A network address with no host bits set (`10.0.0.0/16`, not `10.0.0.1/16`)."""
    try:
        ipaddress.IPv4Network(cidr)
    except ValueError as invalid:
        return str(invalid)
    return None


_DNS_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"


def _host_name(value: str) -> str | None:
    if len(value) > 253:
        return f"{len(value)} characters, at most 253"
    if value.rsplit(".", 1)[-1].isdigit():
        return "an IP address (or a name whose last label is all digits) is no host name"
    return None


# github.com/distribution/reference, regexp.go: the grammar `docker pull` and the kubelet parse an image with.
_PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
# A sha256 digest (lowercase hex, as go-digest verifies it): the one algorithm registries use, and the one the charts
# here take (Grafana's `image.sha` is the hex after `@sha256:`).
_DIGEST = "sha256:[a-f0-9]{64}"
IMAGE_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII)
VERSION_TAG = re.compile(
    r"v?(?P<major>[0-9]+)\.(?P<minor>[0-9]+)(?:\.(?P<patch>[0-9]+))?(?:\.[0-9]+)*(?:[-_][\w.-]*)?", re.ASCII
)
"""A version tag starts with a dotted version, optionally `v` before it and a variant after a `-` or `_`:
`1.29.3-alpine`, `v1.16.1`, `17.7-alpine`, `8.2`. `latest`, `stable`, `alpine` or `LATEST` name no version, and a
major version alone (`17`, `17-alpine`) moves to each new minor release."""
_VERSION_TAG_RULE = (
    "a version tag (one that starts with a version, such as 1.29.3-alpine, v1.16.1 or 17.7-alpine) or a "
    "@sha256: digest; latest, stable or alpine move to new releases"
)


def image_tag_version(image: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of an image reference's version tag; None when its tag names no version."""
    reference = IMAGE_REFERENCE.fullmatch(image)
    tag = reference["tag"] if reference else None
    version = VERSION_TAG.fullmatch(tag) if tag else None
    if version is None:
        return None
    return int(version["major"]), int(version["minor"]), int(version["patch"] or 0)


@dataclass(frozen=True)
class ImageParts:
    """An image reference taken apart as Helm charts want it (`image.repository`, `image.tag`, `image.digest`)."""

    repository: str
    """With its registry: `docker.io/` where the reference names none, as the Docker engine and containerd read it."""
    tag: str
    digest: str


def image_parts(image: str) -> ImageParts:
    """`image` (a validated reference) in parts. By the reference grammar the first path component is a registry
    only if it has a `.` or `:`, or is `localhost` (`prom/prometheus` is on Docker Hub)."""
    reference = IMAGE_REFERENCE.fullmatch(image)
    if reference is None:
        raise ValueError(f"{image!r} is no image reference")
    first, _, rest = reference["name"].partition("/")
    has_registry = bool(rest) and (first == "localhost" or any(mark in first for mark in ".:"))
    repository = reference["name"] if has_registry else f"docker.io/{reference['name']}"
    return ImageParts(repository, reference["tag"] or "", reference["digest"] or "")


def _image(value: str, *, tag_required: bool) -> str | None:
    reference = IMAGE_REFERENCE.fullmatch(value)
    if reference is None:
        return None  # the pattern refused it already
    if len(reference["name"]) > 255:
        return "the name is longer than 255 characters"
    if image_tag_version(value) is None and (tag_required or reference["digest"] is None):
        return f"the tag {reference['tag']!r} names no version" if reference["tag"] else "it has no tag"
    return None


def _nginx_image(value: str) -> str | None:
    version = image_tag_version(value)
    if version is None or version >= OLDEST_NGINX:
        return _image(value, tag_required=True)
    oldest = ".".join(map(str, OLDEST_NGINX))
    return f"nginx {'.'.join(map(str, version))} is older than {oldest}, the oldest the rendered nginx.conf runs on"


_IMAGE_RULE = f"an image pinned to {_VERSION_TAG_RULE}"
_IMAGE_PATTERN = IMAGE_REFERENCE.pattern

_SEMVER_NUMBER = "(?:0|[1-9][0-9]*)"
_SEMVER_IDENTIFIER = "(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = (
    rf"{_SEMVER_NUMBER}\.{_SEMVER_NUMBER}\.{_SEMVER_NUMBER}(?:-{_SEMVER_IDENTIFIER}(?:\.{_SEMVER_IDENTIFIER})*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
"""SemVer 2.0.0 (semver.org), which Helm requires of a chart version."""
_INSTANCE_SIZE = r"(?:nano|micro|small|medium|large|(?:[1-9][0-9]*)?xlarge|metal(?:-[0-9]+xl)?)"
_INSTANCE_TYPE = rf"(?=[a-z0-9-]*[0-9])[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.{_INSTANCE_SIZE}"
"""An AWS instance type: family (generation digit, attribute letters, a suffix such as -flex), `.`, size."""


def _aws_type(prefix: str, example: str, what: str) -> TextRule:
    return _text(re.escape(prefix) + _INSTANCE_TYPE, f"{what} such as {example}")


PinnedImage = Annotated[str, _text(_IMAGE_PATTERN, _IMAGE_RULE, lambda image: _image(image, tag_required=False))]
OptionalPinnedImage = Annotated[
    str,
    _text(
        f"(?:{_IMAGE_PATTERN})?", f"{_IMAGE_RULE}, or empty", lambda image: image and _image(image, tag_required=False)
    ),
]
NginxImage = Annotated[
    str,
    _text(
        _IMAGE_PATTERN,
        "an nginx image pinned to a version tag such as nginx:1.29.3-alpine (the renderer adapts nginx.conf to the "
        "version, which a digest alone does not tell)",
        _nginx_image,
    ),
]
NginxTime = Annotated[
    str, _nginx_time(("d", "h", "m", "s", "ms"), "such as 500ms, 30s, 1m30s or 1h (units largest first, each once)")
]
NginxSeconds = Annotated[
    str, _nginx_time(("d", "h", "m", "s"), "in whole seconds such as 10s, 1m30s or 1h (nginx takes no ms here)")
]
NginxSize = Annotated[
    str,
    _text(
        "[0-9]+[kKmMgG]?",
        "a positive nginx size such as 512k, 10m or 1g (k, m, g: KiB, MiB, GiB; no b)",
        _nginx_size,
        _add_unit("m"),
    ),
]
CpuQuantity = Annotated[
    str,
    _text(
        r"[0-9]+m|[0-9]+(?:\.[0-9]{1,3})?", "a Kubernetes CPU quantity such as 500m or 1 (at most three decimals)", _cpu
    ),
]
MemoryQuantity = Annotated[
    str,
    _text(
        "[0-9]+(?:Ki|Mi|Gi|Ti|k|M|G|T)?", "a Kubernetes memory quantity such as 512Mi or 1Gi", _memory, _add_unit("Mi")
    ),
]
_DOTTED_QUAD = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
BindAddress = Annotated[
    str,
    _text(
        _DOTTED_QUAD,
        "an IPv4 address of the Docker host such as 127.0.0.1, or 0.0.0.0 for all "
        "(not IPv6: Docker publishes on IPv6 only where its daemon has IPv6 enabled)",
        _host_address,
    ),
]
Ipv4Network = Annotated[
    str, _text(f"{_DOTTED_QUAD}/[0-9]{{1,2}}", "an IPv4 network such as 203.0.113.0/24", _network_problem)
]
VpcNetwork = Annotated[
    str,
    _text(
        f"{_DOTTED_QUAD}/(?:1[6-9]|20)",
        "an IPv4 network from /16 to /20 (room for three zones' nodes and pods), such as 10.0.0.0/16",
        _network_problem,
    ),
]
HostName = Annotated[
    str,
    _text(
        rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*",
        "a lowercase DNS host name (RFC 1123: labels of a-z, 0-9 and inner '-', at most 63 characters each) "
        "such as brain.example.com; no wildcard",
        _host_name,
    ),
]
ChartVersion = Annotated[str, _text(_SEMVER, "a chart version by SemVer 2, such as 1.16.1", number_hint=_quote_it)]
PostgresVersion = Annotated[
    str,
    _text(
        "[1-9][0-9]*",
        'a PostgreSQL major version such as "17": RDS applies minor upgrades itself, and a pinned minor would '
        "make the next `pulumi up` after one plan a downgrade that RDS refuses",
        number_hint=_quote_it,
    ),
]
CacheVersion = Annotated[
    str,
    _text(
        r"[1-9][0-9]*\.(?:[0-9]+|x)(?:\.[0-9]+)?",
        'an ElastiCache engine version such as "8.1" (valkey 7.2 and later, redis 7.0 and later: major.minor; '
        'redis 6: "6.2" or "6.x"; older redis: the full version such as "5.0.6")',
        number_hint=_quote_it,
    ),
]
RdsInstanceClass = Annotated[str, _aws_type("db.", "db.t4g.medium", "an RDS instance class")]
CacheNodeType = Annotated[str, _aws_type("cache.", "cache.t4g.small", "an ElastiCache node type")]
AwsRegion = Annotated[str, _text("[a-z]{2}(?:-[a-z]+)+-[0-9]", "an AWS region such as eu-central-1")]
POSTGRES_RESERVED_WORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation
    column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze
    from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
    references returning right select session_user similar some symmetric system_user table tablesample then to
    trailing true union unique user using variadic verbose when where window with""".split()
)
"""PostgreSQL's reserved key words (its SQL Key Words appendix), which RDS refuses as a database or user name."""


def _postgres_name(value: str) -> str | None:
    if value in POSTGRES_RESERVED_WORDS:
        return "a PostgreSQL reserved word"
    if value.startswith("pg_") or value == "rdsadmin":
        return "PostgreSQL reserves names starting with pg_, RDS reserves rdsadmin"
    return None


PostgresDatabase = Annotated[
    str,
    _text(
        "[a-z][a-z0-9_]{0,62}",
        "a PostgreSQL database name: a letter, then a-z, 0-9 and _, at most 63 characters in all, no reserved word",
        _postgres_name,
    ),
]
PostgresUser = Annotated[
    str,
    _text(
        "[a-z][a-z0-9_]{0,15}",
        "a PostgreSQL user name as RDS takes it: a letter, then a-z, 0-9 and _, at most 16 characters in all, "
        "no reserved word",
        _postgres_name,
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]
Percent = Annotated[int, Field(ge=1, le=100)]


class _Strict(BaseModel):
    """Unknown keys are errors (a typo must not be silently ignored), and no value is coerced to a type."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Resources(_Strict):
    """Per-replica requests (eks) and limits (docker and eks)."""

    cpu: CpuQuantity = "500m"
    memory: MemoryQuantity = "512Mi"

    @property
    def cpu_cores(self) -> float:
        """`cpu` in cores, as Docker's `--cpus` takes it."""
        return _cpu_cores(self.cpu)

    @property
    def requests(self) -> node_capacity.Requests:
        """As the scheduler adds them up (eks requests equal limits)."""
        return node_capacity.Requests(round(self.cpu_cores * 1000), self.memory_mb)

    @property
    def memory_mb(self) -> int:
        """`memory` in MiB, as the Docker provider's `memory` takes it."""
        return max(1, _memory_bytes(self.memory) // 2**20)


class Autoscaling(_Strict):
    """HPA bounds and targets (eks)."""

    min_replicas: Annotated[int, Field(ge=1, le=1000)] = 3
    max_replicas: Annotated[int, Field(ge=1, le=1000)] = 10
    cpu_utilization: Percent = 70
    memory_utilization: Percent = 80


class BackendConfig(_Strict):
    """The BRAiN Core replicas."""

    replicas: Annotated[int, Field(ge=1, le=64)] = 3
    image: OptionalPinnedImage = Field(default="", description="empty: build the reference backend from ./backend")
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

    algorithm: Algorithm = "least_conn"
    weights: list[Annotated[int, Field(ge=1, le=1000)]] = []
    websocket_affinity: Affinity = "ip_hash"
    image: NginxImage = "nginx:1.29.3-alpine"
    port: Port = 8000
    bind_address: BindAddress = "127.0.0.1"
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
        """The nginx version of `image`, read from its version tag (the renderer adapts to it)."""
        version = image_tag_version(self.image)
        if version is None:  # NginxImage refuses such an image; a model built without validation may have one
            raise ValueError(f"balancer.image {self.image!r} has no version tag")
        return version


class PostgresConfig(_Strict):
    """PostgreSQL: a container on docker; RDS (managed) or a StatefulSet (in_cluster) on eks."""

    image: PinnedImage = "postgres:17.7-alpine"
    engine_version: PostgresVersion = "17"
    instance_class: RdsInstanceClass = "db.t4g.medium"
    storage_gb: Annotated[int, Field(ge=20, le=65536)] = 20
    database: PostgresDatabase = "brain"
    user: PostgresUser = "brain"
    resources: Resources = Field(default=Resources(), description="eks in_cluster: the pod's requests and limits")


class RedisConfig(_Strict):
    """Redis (shared state, WebSocket pub/sub): a container, or ElastiCache Valkey on eks."""

    image: PinnedImage = "redis:8.2.3-alpine"
    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: CacheVersion = "8.1"
    node_type: CacheNodeType = "cache.t4g.small"
    resources: Resources = Field(default=Resources(), description="eks in_cluster: the pod's requests and limits")


class QdrantConfig(_Strict):
    """Qdrant (vectors): a container, or its Helm chart on eks."""

    image: PinnedImage = "qdrant/qdrant:v1.19.0"
    chart_version: ChartVersion = "1.19.0"
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
        r"1\.[0-9]+",
        "an EKS version in standard support: "
        + ", ".join(f"{version} (until {until})" for version, until in EKS_STANDARD_SUPPORT_UNTIL.items()),
        lambda version: version in EKS_STANDARD_SUPPORT_UNTIL,
        number_hint=_quote_it,
    ),
]


class NodeGroupConfig(_Strict):
    """The EKS managed node group the replicas run on; the node autoscaler moves it between min and max."""

    instance_types: list[InstanceTypeName] = Field(default=["m7i.large"], min_length=1, max_length=20)
    min_size: Annotated[int, Field(ge=1, le=1000)] = 2
    desired_size: Annotated[int, Field(ge=1, le=1000)] = 3
    max_size: Annotated[int, Field(ge=1, le=1000)] = 6


class ClusterConfig(_Strict):
    """The EKS cluster (eks only)."""

    region: AwsRegion = "eu-central-1"
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
    host: HostName = Field(default="brain.example.com", description="the VirtualServer's host name")


def _is_private_subnet(cidr: str) -> bool:
    if _network_problem(cidr) is not None:
        return False
    network = ipaddress.IPv4Network(cidr)
    return network.is_private and 16 <= network.prefixlen <= 28


class NetworkConfig(_Strict):
    """The dev target's Docker network (docker only)."""

    subnet: Annotated[
        str,
        _text(
            f"{_DOTTED_QUAD}/[0-9]{{1,2}}",
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
    return sum(int(amount) * _PROMETHEUS_UNITS[unit] for amount, unit in re.findall(r"([0-9]+)(ms|[ywdhms])", value))


def _prometheus_duration(low: float, high: float, expected: str) -> TextRule:
    """A Prometheus duration (units largest first, each once) from `low` to `high` seconds."""
    pattern = "(?=[0-9])" + "".join(f"(?:[0-9]+{unit})?" for unit in _PROMETHEUS_UNITS)
    return _text(pattern, expected, lambda value: low <= prometheus_seconds(value) <= high, _add_unit("s"))


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
    """Everything under `brain:` in Pulumi.<stack>.yaml. Rules across keys are `cross_key_problems`."""

    target: Literal["docker", "eks"]
    backend: BackendConfig = BackendConfig()
    balancer: BalancerConfig = BalancerConfig()
    data: DataConfig = DataConfig()
    cluster: ClusterConfig = ClusterConfig()
    network: NetworkConfig = NetworkConfig()
    monitoring: MonitoringConfig = MonitoringConfig()


def published_host_ports(config: StackConfig) -> list[tuple[str, int]]:
    """docker: every host port the stack publishes, with the key that publishes it (extend it with each new
    published container: `unique_ports` then checks it)."""
    if config.target != "docker":
        return []
    ports = [("balancer.port", config.balancer.port)]
    if config.monitoring.enabled:
        ports += [
            ("monitoring.prometheus_port", config.monitoring.prometheus_port),
            ("monitoring.grafana_port", config.monitoring.grafana_port),
        ]
    if config.data.publish_ports:
        ports += [(f"data.publish_ports ({service})", port) for service, port in DATA_PORTS.items()]
    return ports


def unique_ports(ports: Iterable[tuple[str, int]]) -> list[str]:
    """One problem per port two keys publish: the second container would fail to start halfway through `pulumi up`."""
    first: dict[int, str] = {}
    problems = []
    for key, port in ports:
        if port not in first:
            first[port] = key
            continue
        settable = [name for name in (first[port], key) if " " not in name]  # not "data.publish_ports (redis)"
        hint = f"; give {' or '.join(settable)} another port" if settable else ""
        problems.append(f"{first[port]} and {key} both publish host port {port}{hint}")
    return problems


def _cache_version_problem(engine: str, version: str) -> str | None:
    """ElastiCache's version rules by engine (the pulumi-aws ReplicationGroup `engine_version` docs)."""
    major, minor, *patch = version.split(".")
    if engine == "valkey" and (int(major) < 7 or minor == "x" or patch):
        return "valkey takes major.minor from 7.2, such as 8.1"
    if engine == "redis" and int(major) >= 7 and (minor == "x" or patch):
        return "redis 7 and later take major.minor, such as 7.1"
    if engine == "redis" and int(major) == 6 and patch:
        return 'redis 6 takes "6.2" or "6.x"'
    if engine == "redis" and int(major) < 6 and (minor == "x" or not patch):
        return "redis before 6 takes the full version, such as 5.0.6"
    return None


Problem = tuple[tuple[str, ...], str]
"""A cross-key problem: the keys it reads, and its message."""


def cross_key_problems(config: StackConfig) -> list[Problem]:
    """Rules that relate several keys; each problem names the keys it read."""
    problems: list[Problem] = []
    balancer, backend, target = config.balancer, config.backend, config.target
    if nginx_seconds(balancer.keepalive_timeout) >= BACKEND_IDLE_TIMEOUT_SECONDS:
        message = (
            f"balancer.keepalive_timeout {balancer.keepalive_timeout!r} must be below "
            f"{BACKEND_IDLE_TIMEOUT_SECONDS}s: the backends close idle connections then, and nginx must "
            "close its pooled ones first or a request can meet a connection the backend is closing"
        )
        problems.append((("balancer.keepalive_timeout",), message))
    if balancer.algorithm == "weighted" and target == "eks":
        message = (
            "balancer.algorithm 'weighted' is not possible on target eks (pods carry no weights); "
            "use round_robin, least_conn, ip_hash or consistent_hash"
        )
        problems.append((("target", "balancer.algorithm"), message))
    elif balancer.algorithm == "weighted" and len(balancer.weights) != backend.replicas:
        message = (
            f"balancer.weights has {len(balancer.weights)} entries but backend.replicas is "
            f"{backend.replicas}; give one positive weight per replica"
        )
        problems.append((("target", "balancer.algorithm", "balancer.weights", "backend.replicas"), message))
    elif balancer.algorithm != "weighted" and balancer.weights:
        message = (
            f"balancer.weights {list(balancer.weights)} is only allowed with balancer.algorithm 'weighted' "
            f"(got {balancer.algorithm!r})"
        )
        problems.append((("balancer.algorithm", "balancer.weights"), message))
    autoscaling = backend.autoscaling
    if autoscaling.min_replicas > autoscaling.max_replicas:
        message = (
            f"backend.autoscaling.min_replicas {autoscaling.min_replicas} is greater than "
            f"backend.autoscaling.max_replicas {autoscaling.max_replicas}"
        )
        problems.append((("backend.autoscaling.min_replicas", "backend.autoscaling.max_replicas"), message))
    nodes = config.cluster.node_group
    if not nodes.min_size <= nodes.desired_size <= nodes.max_size:
        message = (
            f"cluster.node_group sizes must satisfy min_size <= desired_size <= max_size "
            f"(got {nodes.min_size}, {nodes.desired_size}, {nodes.max_size})"
        )
        sizes = ("cluster.node_group.min_size", "cluster.node_group.desired_size", "cluster.node_group.max_size")
        problems.append((sizes, message))
    redis = config.data.redis
    version_rule = _cache_version_problem(redis.engine, redis.engine_version)
    if version_rule:
        message = (
            f"data.redis.engine_version {redis.engine_version!r} does not fit data.redis.engine "
            f"{redis.engine!r}: {version_rule}"
        )
        problems.append((("data.redis.engine", "data.redis.engine_version"), message))
    if target == "eks":
        problems += _eks_platform_problems(config)
    if target == "docker" and config.data.mode != "managed" and "mode" in config.data.model_fields_set:
        message = f"data.mode {config.data.mode!r} applies to target eks only; remove it for docker"
        problems.append((("target", "data.mode"), message))
    if target == "eks" and "replicas" in backend.model_fields_set:
        message = (
            f"backend.replicas {backend.replicas} applies to target docker only; on eks the autoscaler owns "
            "the count: set backend.autoscaling.min_replicas and max_replicas instead"
        )
        problems.append((("target", "backend.replicas"), message))
    problems += _qdrant_problems(config)
    problems += _tls_problems(config)
    if target == "eks" and not backend.image:
        message = (
            "backend.image is required for target eks (the cluster pulls the replicas' image from a registry); "
            "set it to a pinned image such as ghcr.io/brain/brain-core:1.0.0"
        )
        problems.append((("target", "backend.image"), message))
    ports = published_host_ports(config)
    port_keys = ("target", *(key.split(" ")[0] for key, _ in ports))
    problems += [(port_keys, clash) for clash in unique_ports(ports)]
    return problems

def _qdrant_problems(config: StackConfig) -> list[Problem]:
    """The image runs the version the chart configures; the chart reads that version from the tag."""
    qdrant, problems = config.data.qdrant, []
    qdrant_version, chart_minor = _QDRANT_TAG.search(qdrant.image), qdrant.chart_version.split(".")[:2]
    if qdrant_version is None or list(qdrant_version.groups()) != chart_minor:
        message = (
            f"data.qdrant.image {qdrant.image!r} must be tagged v{'.'.join(chart_minor)}.<patch> to match "
            f"data.qdrant.chart_version {qdrant.chart_version!r}: the chart configures its own Qdrant version, "
            "and both targets run the same one"
        )
        problems.append((("data.qdrant.image", "data.qdrant.chart_version"), message))
    if config.target == "eks" and "@" in qdrant.image:
        message = (
            f"data.qdrant.image {qdrant.image!r} cannot carry a digest on target eks: the Qdrant chart "
            "parses the image tag as a version; pin the tag alone"
        )
        problems.append((("target", "data.qdrant.image"), message))
    return problems


def _tls_problems(config: StackConfig) -> list[Problem]:
    """TLS needs a name Let's Encrypt can reach over HTTP-01 (no wildcard, no address) and a contact."""
    tls = config.balancer.tls
    if config.target == "docker":
        if "tls" in config.balancer.model_fields_set:
            message = (
                "balancer.tls applies to target eks only (dev serves plain HTTP on 127.0.0.1); remove it for docker"
            )
            return [(("target", "balancer.tls"), message)]
        return []
    if not tls.enabled:
        return []
    problems: list[Problem] = []
    if not re.fullmatch(_DNS_NAME, config.cluster.host):
        message = (
            f"cluster.host {config.cluster.host!r} must be a DNS name such as api.your-domain.org while "
            "balancer.tls.enabled is true (the certificate is issued for it; set balancer.tls.enabled false for "
            "plain HTTP)"
        )
        problems.append((("target", "cluster.host", "balancer.tls.enabled"), message))
    if not tls.email:
        message = (
            "balancer.tls.email is required while balancer.tls.enabled is true: Let's Encrypt's contact for "
            "expiry notices, such as ops@your-domain.org"
        )
        problems.append((("target", "balancer.tls.enabled", "balancer.tls.email"), message))
    return problems


def _eks_platform_problems(config: StackConfig) -> list[Problem]:
    """The API endpoint must be chosen, and the pods at the HPA maximum must fit on the largest node pool."""
    problems: list[Problem] = []
    if config.cluster.api_access_cidrs is None:
        message = (
            "cluster.api_access_cidrs is required for target eks (no open default): the networks that may reach "
            "the Kubernetes API's public endpoint, such as your office or CI egress [203.0.113.0/24], "
            "or [] for the private endpoint only (then run pulumi from inside the VPC)"
        )
        problems.append((("target", "cluster.api_access_cidrs"), message))
    nodes, autoscaling, resources = config.cluster.node_group, config.backend.autoscaling, config.backend.resources
    stores = (config.data.postgres.resources.requests, config.data.redis.resources.requests)
    pods = node_capacity.pods_at_hpa_maximum(
        resources.requests,
        autoscaling.max_replicas,
        monitoring=config.monitoring.enabled,
        in_cluster_data=config.data.mode == "in_cluster",
        tls=config.balancer.tls.enabled,
        qdrant=config.data.qdrant.resources.requests,
        store=max(stores, key=lambda requests: (requests.cpu_millis, requests.memory_mib)),
    )
    instance_type = node_capacity.smallest(nodes.instance_types)
    plan = node_capacity.place(pods, instance_type, nodes.max_size)
    if plan.unplaced:
        needed = node_capacity.nodes_needed(pods, instance_type)
        sizing_keys = {"backend": "backend.resources", "qdrant": "data.qdrant.resources",
                       "postgres and redis": "data.postgres.resources or data.redis.resources"}
        too_big = sorted({sizing_keys[name] for name in plan.unplaced if name in sizing_keys})
        remedy = f"raise it to {needed}" if needed else (
            "no number of these nodes holds such a pod" + (f": lower {' or '.join(too_big)}" if too_big else "")
        )
        message = (
            f"cluster.node_group.max_size {nodes.max_size} is too small: at the HPA maximum "
            f"(backend.autoscaling.max_replicas {autoscaling.max_replicas} x backend.resources "
            f"{resources.cpu}/{resources.memory}) with the system pods, {len(plan.unplaced)} pods "
            f"({', '.join(sorted(set(plan.unplaced)))}) find no room on {nodes.max_size} x {instance_type} "
            f"(allocatable each: {node_capacity.INSTANCE_TYPES[instance_type].allocatable}); {remedy}, "
            "or choose larger cluster.node_group.instance_types"
        )
        reads = (
            "target",
            "cluster.node_group.max_size",
            "cluster.node_group.instance_types",
            "backend.autoscaling.max_replicas",
            "backend.resources",
            "monitoring.enabled",
            "data.mode",
            "data.postgres.resources",
            "data.redis.resources",
            "data.qdrant.resources",
            "balancer.tls.enabled",
        )
        problems.append((reads, message))
    return problems


class ConfigError(pulumi.RunError):
    """Invalid stack config; the message has one line per problem. Pulumi prints it without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  {p}" for p in problems))


def _key(loc: Iterable[int | str]) -> str:
    """The dotted key of an error location; a key with a line break or tab in it quoted, so it stays one line."""
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return key if key.isprintable() else repr(key)


def _field_path(loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """The config key an error is about: a list's entry counts as the whole list."""
    path: list[str] = []
    for part in loc:
        if isinstance(part, int):
            break
        path.append(part)
    return tuple(path)


_TYPE_NAMES = {
    "int_type": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list such as [1, 2]",
    "model_type": "a mapping of keys (see the README's config reference)",
    "dict_type": "a mapping of keys (see the README's config reference)",
}
_UNQUOTED = {"int_type": re.compile("-?[0-9]+", re.ASCII), "bool_type": re.compile("true|false", re.IGNORECASE)}
"""Text that, unquoted, would have been the type the key wants."""


def _known_keys(path: tuple[str, ...]) -> list[str]:
    """The keys the model allows at `path` (the parent of an unknown key)."""
    model: Any = StackConfig
    for part in path:
        field = model.model_fields.get(part)
        model = field.annotation if field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields)


def _shown(value: object) -> str:
    """A value as its author wrote it: text quoted, everything else in YAML's (and JSON's) spelling."""
    return repr(value) if isinstance(value, str) else json.dumps(value, default=str)


def _describe(error: ErrorDetails) -> str:
    """One line: `brain:<key> = <value>: <what is allowed>`."""
    key = _key(error["loc"])
    kind, value = error["type"], error["input"]
    if kind == "extra_forbidden":
        *parent, name = error["loc"]
        close = difflib.get_close_matches(str(name), _known_keys(tuple(str(part) for part in parent)), n=1)
        hint = f"did you mean {_key([*parent, close[0]])}? " if close else ""
        return f"{NAMESPACE}:{key} is not a known key; {hint}check its spelling against the README's config reference"
    if kind == "missing":
        return f"{NAMESPACE}:{key} is required"
    if kind in _TYPE_NAMES:
        unquoted = _UNQUOTED.get(kind)
        quoted = isinstance(value, str) and unquoted is not None and unquoted.fullmatch(value)
        hint = " (a quoted value is text: remove the quotes)" if quoted else ""
        return f"{NAMESPACE}:{key} = {_shown(value)}: expected {_TYPE_NAMES[kind]}, not {_what(value)}{hint}"
    return f"{NAMESPACE}:{key} = {_shown(value)}: {error['msg'].removeprefix('Value error, ')}"


def _without(raw: Mapping[str, Any], paths: Iterable[tuple[str, ...]]) -> dict[str, Any]:
    """`raw` with the keys at `paths` removed, so their defaults stand in for them."""
    copy = json.loads(json.dumps(raw, default=str))
    for path in paths:
        node = copy
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path:
            node.pop(path[-1], None)
    return copy


def _reads_any(keys: Iterable[str], invalid: set[tuple[str, ...]]) -> bool:
    """Whether a rule reading `keys` would read an invalid value (or a default standing in for one)."""
    for key in keys:
        path = tuple(key.split("."))
        if any(path[: len(bad)] == bad or bad[: len(path)] == path for bad in invalid):
            return True
    return False


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate raw config values (already parsed from YAML/JSON); raise ConfigError listing every problem.

    Every key is checked on its own first; the rules across keys then run on whatever is valid (defaults stand
    in for the invalid values), and report only what does not involve an invalid key, so nothing hides."""
    try:
        return _checked_across_keys(StackConfig.model_validate(raw), set(), [])
    except ValidationError as invalid:
        errors = invalid.errors()
    problems = [_describe(error) for error in errors]
    invalid_paths = {_field_path(error["loc"]) for error in errors}
    repaired = _without(raw, invalid_paths)
    repaired.setdefault("target", "docker")  # `target` is among the invalid keys then: no rule reading it reports
    try:
        config = StackConfig.model_validate(repaired)
    except ValidationError:  # nothing to repair with defaults (raw is no mapping): the errors above say it all
        raise ConfigError(problems) from None
    return _checked_across_keys(config, invalid_paths, problems)


def _checked_across_keys(config: StackConfig, invalid_paths: set[tuple[str, ...]], problems: list[str]) -> StackConfig:
    """`config` if neither `problems` nor the rules across keys find anything; else ConfigError with all of them."""
    problems = problems + [
        f"{NAMESPACE}:{message}" for keys, message in cross_key_problems(config) if not _reads_any(keys, invalid_paths)
    ]
    if problems:
        raise ConfigError(problems)
    return config


def _decoded(text: str) -> Any:
    """A config value as the program receives it: objects and lists are JSON text, top-level strings are plain."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def raw_stack_config(values: Mapping[str, str]) -> dict[str, Any]:
    """The `brain:*` keys of config as the CLI hands it to the program (`{"brain:balancer": "<JSON>"}`), decoded.

    Decoded here rather than with Config.get_object, which raises on a value that is no JSON (such as a misspelt
    top-level key holding plain text): every problem then gets its one-line message."""
    raw: dict[str, Any] = {}
    for full_key in sorted(values):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            raw[key] = values[full_key] if key == "target" else _decoded(values[full_key])
    return raw


def load_stack_config() -> StackConfig:
    """Read every `brain:*` key of the current stack and validate it."""
    # The CLI hands config over in PULUMI_CONFIG; mocks and the offline render set it in-process.
    handed_over = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return parse_stack_config(raw_stack_config(handed_over))

"""Whatever is written into any config key, nothing invalid reaches an artifact (issue 8).

One invariant per stack, over arbitrary values in every key: either the config is refused before any resource
is registered, with a message naming the key; or everything rendered is accepted by what consumes it: the
nginx.conf by the real `nginx -t` (mapped to this machine as in tests/unit/nginx_conf), every Kubernetes object
by the strict schema of the cluster's version (custom resources such as the VirtualServer are checked against
their CRDs elsewhere). Values are both random (text, numbers, structures) and plausible but wrong (a valid value
mutated, non-ASCII digits, huge numbers, the wrong YAML type). The cases it found are kept as `@example`s.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from kubernetes_validate.utils import all_versions

from components.config import NAMESPACE, ConfigError, TextRule, parse_stack_config, raw_stack_config
from tests.support.config_keys import ConfigKey, config_keys
from tests.support.nginx import docker_conf_for_this_machine, nginx_binary, nginx_test
from tools.manifest_schemas import validate_builtin
from tools.manifests import manifest_documents
from tools.program import handed_over, stack_config
from tests.support.renders import run_program
from tools.render import NGINX_CONF_FILE, render_files

KEYS = list(config_keys())
PREFIX = f"{NAMESPACE}:"
EXAMPLES_PER_STACK = {"dev": 30, "prod": 20}
"""Bounded so `pytest tests/unit` stays quick: a prod run of the program takes about 0.2 s."""

TRICKY_TEXT = [
    "", " ", "0", "-1", "1e3", "0x10", "1_000", "true", "null", "~", "{}", "[]", "\n", "'", "${x}", ";", "*",
    "３０s", "٣٠s", "30s ", " 30s", "10mb", "1t", "0m", "0", "0.0001", "99999999999999999999s",
    "9223372036854775808ms", "9223372036854775807ms", "8589934592g", "8589934591g",
    "latest", "nginx:stable", "redis:alpine", "myapp:LATEST", "nginx@sha256:" + "a" * 64, "NGINX:1.2.3",
    "999.999.999.999", "::1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "localhost",
    "a;b", "a b", "*.example.com", "-a.example.com", "a" * 64 + ".example.com", "1.2.3.4",
    "17", "17.7", "17.", ".7", "8.1.0", "6.x", "7.x", "1.16.1-rc.1", "01.16.1", "v1.16.1",
    "db.t4g.medium", "cache.t4g.small", "m7i.large", "m7i-flex.large", "t4g", "db.serverless",
]
"""Values people type, near misses of valid ones, and the issue's own examples."""

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
"""Anything YAML can hold."""


BOUNDARIES = [n + delta for n in (2**31, 2**32, 2**53, 2**63, 10**20) for delta in (-1, 0, 1)]
"""Numbers where a parser's integer type ends."""


def _with_number(text: str, number: int) -> str:
    return re.sub("[0-9]+", str(number), text, count=1)


def near_misses(default: Any) -> st.SearchStrategy[Any]:
    """Values close to a valid `default`: the same type a little off, a valid shape with other numbers, the
    value as another YAML type. Many are valid too, which takes them to the renderers."""
    if isinstance(default, bool):
        return st.sampled_from([True, False, "true", "false", 1, 0, None, "yes"])
    if isinstance(default, int):
        return st.one_of(st.integers(-3, 70_000), st.sampled_from(BOUNDARIES), st.just(str(default)), st.booleans())
    if isinstance(default, str):
        alphabet = sorted(set(default + "0123456789.:-_/@ ") | {"０", "٣"})
        numbers = st.one_of(st.integers(0, 100_000), st.sampled_from(BOUNDARIES))
        return st.one_of(
            st.sampled_from(TRICKY_TEXT),
            numbers.map(lambda number: _with_number(default, number)),
            st.tuples(st.integers(0, len(default)), st.text(alphabet=alphabet, max_size=2), st.integers(0, 2)).map(
                lambda edit: default[: edit[0]] + edit[1] + default[edit[0] + edit[2] :]
            ),
            st.text(alphabet=alphabet, max_size=len(default) + 4),
            numbers,
            st.just(default.upper()),
        )
    if isinstance(default, list):
        return st.lists(near_misses(default[0]) if default else st.integers(-2, 1001), max_size=4)
    return JUNK


def shaped(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """Values of the shape a field declares (its text pattern, its number range one past each end, its choices):
    they reach the renderers, and the checks beyond the pattern (bounds, rules across keys) meet them."""
    rules = [rule for rule in metadata if isinstance(rule, TextRule)]
    if rules:
        return st.from_regex(rules[0].pattern, fullmatch=True)
    if get_origin(annotation) is Annotated:
        inner, *more = get_args(annotation)
        return shaped(inner, [rule for item in more for rule in getattr(item, "metadata", [item])])
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation))
    if get_origin(annotation) is list:
        return st.lists(shaped(get_args(annotation)[0], []), max_size=4)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        lowest = max([rule.ge for rule in metadata if hasattr(rule, "ge")], default=-(2**64)) - 1
        highest = min([rule.le for rule in metadata if hasattr(rule, "le")], default=2**64) + 1
        return st.integers(lowest, highest)
    return JUNK


def value_for(key: ConfigKey, only_shaped: bool) -> st.SearchStrategy[Any]:
    """A value of the key's shape, a near miss of its default, or anything at all."""
    if key.section:
        return JUNK
    valid_shape = shaped(key.field.annotation, key.field.metadata)
    return valid_shape if only_shaped else st.one_of(valid_shape, near_misses(key.default), JUNK)


@st.composite
def config_changes(draw: st.DrawFn) -> dict[str, Any]:
    """One to three keys, each with a drawn value; in half of the cases all of the keys' shape."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique_by=lambda key: key.path))
    only_shaped = draw(st.booleans())
    return {key.path: draw(value_for(key, only_shaped)) for key in keys}


def with_changes(tree: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`tree` with each change set at its dotted path (a section that is no mapping becomes one)."""
    changed = json.loads(json.dumps(tree))
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = changed
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return changed


def names_a_changed_key(problem: str, changes: dict[str, Any]) -> bool:
    """Whether `problem` names a changed key, a key inside it, or the section holding it."""
    for path in changes:
        parts = path.split(".")
        for named in (".".join(parts[:end]) for end in range(len(parts), 0, -1)):
            if re.search(rf"(?<![\w.]){re.escape(named)}(?![\w])", problem):
                return True
    return False


SCHEMA_VERSIONS = sorted({tuple(int(part) for part in version.split(".")[:2]) for version in all_versions()})


def schema_version(cluster_version: str) -> str:
    """The schema to check against: the cluster's version, or the nearest kubernetes-validate has (a version
    EKS does not offer is the AWS API's to refuse; the objects must still be valid Kubernetes)."""
    wanted = tuple(int(part) for part in cluster_version.split("."))
    major, minor = min(SCHEMA_VERSIONS, key=lambda known: (abs(known[1] - wanted[1]), known))
    return f"{major}.{minor}.0"


def is_custom_resource(document: dict[str, Any]) -> bool:
    """A kind from a CRD: its API group has a dot and is not one of Kubernetes' own (`*.k8s.io`)."""
    group = str(document.get("apiVersion", "")).rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def kubernetes_objects(resources: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every rendered Kubernetes object with its secrets revealed (a manifest file masks them), no Helm release."""
    documents = manifest_documents(resources, reveal_secrets=True).items()
    return [(name, document) for name, document in documents if "apiVersion" in document and "kind" in document]


def assert_nothing_invalid_reaches_an_artifact(stack: str, changes: dict[str, Any]) -> None:
    tree = with_changes(raw_stack_config(stack_config(stack)), changes)
    registered: list[Any] = []
    try:
        run = run_program(stack, config=handed_over(tree), registered=registered)
    except ConfigError as refused:
        event("refused")
        assert registered == [], f"{changes}: resources registered before the config error: {registered}"
        assert all(problem.startswith(PREFIX) for problem in refused.problems), refused.problems
        assert any(names_a_changed_key(problem, changes) for problem in refused.problems), (
            f"{changes}: refused without naming a changed key:\n{refused}"
        )
        return
    event("accepted")
    files = render_files(run.resources)
    if NGINX_CONF_FILE in files:
        with tempfile.TemporaryDirectory(prefix="brain-property-") as directory:
            nginx_test(docker_conf_for_this_machine(files[NGINX_CONF_FILE]), Path(directory))
    version = schema_version(parse_stack_config(tree).cluster.version)
    for name, document in kubernetes_objects(run.resources):
        if is_custom_resource(document):
            continue
        try:
            validate_builtin(document, version)
        except kubernetes_validate.ValidationError as invalid:
            pytest.fail(f"{changes}: {name} is not a valid Kubernetes {version} object: {invalid.message}")


@settings(max_examples=EXAMPLES_PER_STACK["dev"], deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_changes())
@example({"balancer.read_timeout": "３０s"})
@example({"balancer.fail_timeout": "99999999999999999999s"})
@example({"balancer.keepalive_timeout": "9223372036854775807ms"})
@example({"balancer.client_max_body_size": "8589934591g", "balancer.websocket_timeout": "9223372036854775807ms"})
@example({"balancer.client_max_body_size": "0"})
@example({"balancer.bind_address": "999.999.999.999"})
@example({"backend.replicas": True})
@example({"balancer.algorithm": "weighted", "balancer.weights": [1, True, 1]})
@example({"balancer.port": 9090, "monitoring.enabled": True})
@example({"balancer.port": 5432, "data.publish_ports": True})
@example({"balancer.image": "nginx:stable"})
@example({"balancer": "fast"})
def test_dev_config_is_refused_or_renders_what_nginx_accepts(changes: dict[str, Any]) -> None:
    nginx_binary()  # skip (or fail in CI) before any example runs without nginx
    assert_nothing_invalid_reaches_an_artifact("dev", changes)


@settings(max_examples=EXAMPLES_PER_STACK["prod"], deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_changes())
@example({"cluster.host": "a;b"})
@example({"cluster.host": ""})
@example({"cluster.host": "*.example.com"})
@example({"data.qdrant.chart_version": "latest"})
@example({"data.redis.node_type": "redis-small", "data.postgres.engine_version": "seventeen"})
@example({"cluster.node_group.instance_types": ["m7i large"]})
@example({"backend.resources.cpu": "0m"})
@example({"backend.image": "myapp:LATEST"})
@example({"data.postgres.engine_version": "17"})
# Found: 1.00 was taken, and the Deployment's preStop `sleep` hook is unknown before Kubernetes 1.29 (now only
# EKS versions in standard support are).
@example({"cluster.version": "1.00"})
# Found: a Qdrant pod larger than any node was refused naming only cluster.node_group.max_size.
@example({"data.qdrant.resources.cpu": "1751m"})
def test_prod_config_is_refused_or_renders_valid_kubernetes_objects(changes: dict[str, Any]) -> None:
    assert_nothing_invalid_reaches_an_artifact("prod", changes)

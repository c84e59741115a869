"""Prod pods are hardened: the app namespace enforces the `restricted` Pod Security Standard, and every pod
we define (the backend, PostgreSQL and Redis in_cluster) passes it, with a read-only root filesystem, writable
scratch directories where the image needs them, no service-account token, resources and liveness probes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.eks.cluster import NAMESPACE
from tests.support.charts import chart_dir, chart_values
from tools.manifest_schemas import coalesced
from tests.support.pod_security import hardening_violations, restricted_violations
from tools.program import ProgramRun
from tools import yaml_text
from tests.support.renders import run_program

ROOT = Path(__file__).resolve().parents[3]
WORKLOAD_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


@pytest.fixture(scope="module")
def in_cluster() -> ProgramRun:
    return run_program("prod", ["data.mode=in_cluster"])


def _pods(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {
        workload.inputs["metadata"]["name"]: workload.inputs["spec"]["template"]["spec"]
        for type_ in WORKLOAD_TYPES
        for workload in run.of_type(type_)
    }


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod["containers"]
    return container


def test_the_app_namespace_enforces_the_restricted_standard(in_cluster: ProgramRun) -> None:
    (namespace,) = [namespace for namespace in in_cluster.of_type("kubernetes:core/v1:Namespace")
                    if namespace.inputs["metadata"]["name"] == NAMESPACE]
    labels = namespace.inputs["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", labels


def test_every_pod_passes_the_restricted_standard_and_our_hardening(in_cluster: ProgramRun) -> None:
    pods = _pods(in_cluster)
    assert set(pods) == {"brain-backend", "postgres", "redis"}, sorted(pods)
    for name, pod in pods.items():
        problems = restricted_violations(pod) + hardening_violations(pod)
        assert not problems, f"{name}: {problems}"


def test_the_checks_catch_a_weakened_pod(in_cluster: ProgramRun) -> None:
    """The two checkers above are what the previous test relies on: each rule must be able to fail."""
    pod = _pods(in_cluster)["postgres"]
    container = _container(pod)
    weakened = {
        **pod,
        "securityContext": {**pod["securityContext"], "runAsNonRoot": False, "seccompProfile": {"type": "Unconfined"}},
        "automountServiceAccountToken": True,
        "containers": [
            {
                **container,
                "securityContext": {"allowPrivilegeEscalation": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                "resources": {"limits": {"cpu": "1"}},
            }
        ],
    }
    problems = " ".join(restricted_violations(weakened) + hardening_violations(weakened))
    for rule in (
        "allowPrivilegeEscalation",
        "drop ALL",
        "adds capabilities",
        "runAsNonRoot",
        "seccompProfile",
        "service-account token",
        "readOnlyRootFilesystem",
        "resources.requests",
        "resources.limits",
    ):
        assert rule in problems, f"a pod breaking {rule!r} passed: {problems}"


def test_backend_runs_as_the_user_its_image_declares(in_cluster: ProgramRun) -> None:
    """`runAsNonRoot` can only check a numeric user: the pod names the reference image's own."""
    user = re.search(r"^USER (\d+)$", (ROOT / "backend" / "Dockerfile").read_text(), re.M)
    assert user, "backend/Dockerfile must end in a numeric USER"
    context = _pods(in_cluster)["brain-backend"]["securityContext"]
    assert context["runAsUser"] == int(user.group(1)), context


@pytest.mark.parametrize(
    ("workload", "writable"),
    [
        ("brain-backend", {"/tmp"}),
        # The server's socket and lock file in /var/run/postgresql; the entrypoint's temporary files in /tmp.
        ("postgres", {"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"}),
        # Redis writes its append-only file and snapshots in its working directory, the data volume.
        ("redis", {"/data"}),
    ],
)
def test_only_what_the_process_writes_is_writable(in_cluster: ProgramRun, workload: str, writable: set[str]) -> None:
    pod = _pods(in_cluster)[workload]
    container = _container(pod)
    mounts = {
        mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", []) if not mount.get("readOnly")
    }
    assert set(mounts) == writable, f"{workload}: writable paths {sorted(mounts)}, expected {sorted(writable)}"
    scratch = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for path, name in mounts.items():
        if name in scratch:
            assert scratch[name]["emptyDir"].get("sizeLimit"), f"{workload}: scratch {path} is unbounded"


@pytest.mark.parametrize(("store", "user", "group"), [("postgres", 70, 70), ("redis", 999, 1000)])
def test_stores_start_as_the_images_own_user(in_cluster: ProgramRun, store: str, user: int, group: int) -> None:
    """The Alpine images start as root and step down in their entrypoint (docker-library/postgres: uid 70;
    redis: uid 999, gid 1000): the pod starts as that user, and its volume is made writable for the group."""
    context = _pods(in_cluster)[store]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (user, group, group), context


def _release_values(run: ProgramRun, name: str, chart: str, subchart: str | None = None) -> dict[str, Any]:
    """A release's values coalesced over its vendored chart's (or, for `subchart`, over that subchart's)."""
    release = run.named(name).inputs
    directory = chart_dir(chart, release["version"])
    if subchart is None:
        return coalesced(chart_values(chart, release["version"]), release["values"])
    (subchart_dir,) = (directory / "charts").glob(f"{subchart}-*")
    defaults = yaml_text.load((subchart_dir / "values.yaml").read_text())
    return coalesced(defaults, release["values"].get(subchart, {}))


def test_monitoring_pods_pass_the_restricted_standard(in_cluster: ProgramRun) -> None:
    """Monitoring runs in the app namespace too: the pods its charts make from our values (the security contexts
    their templates copy from values; Grafana's root `initChownData` only with persistence; grafana-community
    chart 11.6.1 `templates/_pod.tpl`)."""
    prometheus = _release_values(in_cluster, "brain-prometheus", "prometheus")
    kube_state_metrics = _release_values(in_cluster, "brain-prometheus", "prometheus", "kube-state-metrics")
    grafana = _release_values(in_cluster, "brain-grafana", "grafana")
    assert not grafana["persistence"]["enabled"], "with persistence, Grafana's chart adds a root chown container"
    pods = {
        "prometheus": {
            "securityContext": prometheus["server"]["securityContext"],
            "containers": [
                {"name": "prometheus-server", "securityContext": prometheus["server"]["containerSecurityContext"]},
                {
                    "name": "configmap-reload",
                    "securityContext": prometheus["configmapReload"]["prometheus"]["containerSecurityContext"],
                },
            ],
        },
        "kube-state-metrics": {
            "securityContext": {k: v for k, v in kube_state_metrics["securityContext"].items() if k != "enabled"},
            "containers": [
                {"name": "kube-state-metrics", "securityContext": kube_state_metrics["containerSecurityContext"]}
            ],
        },
        "grafana": {
            "securityContext": grafana["securityContext"],
            # The chart's _pod.tpl adds this init container whenever `dashboards` is set, as ours is.
            "initContainers": (
                [{"name": "download-dashboards", "securityContext": grafana["downloadDashboards"]["securityContext"]}]
                if grafana["dashboards"]
                else []
            ),
            "containers": [{"name": "grafana", "securityContext": grafana["containerSecurityContext"]}],
        },
    }
    for name, pod in pods.items():
        assert not restricted_violations(pod), f"{name}: {restricted_violations(pod)}"

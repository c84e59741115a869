"""Our Qdrant release against the pinned chart (vendored: Helm cannot run here): the pod its StatefulSet
template makes from our values is hardened like ours, passes the `restricted` Pod Security Standard and the
strict Kubernetes schema of the configured cluster version; the Qdrant configuration we pass through is
Qdrant's own. (test_manifest_schemas checks every chart value's key.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest

from components.config import StackConfig
from tests.support.charts import ROOT, chart_dir, chart_values
from tools.manifest_schemas import coalesced as _merged
from tests.support.pod_security import hardening_violations, restricted_violations
from tools.program import ProgramRun, reveal
from tools import yaml_text
from tests.support.renders import run_program

QDRANT_CONFIG_VALUE = "config"
"""Passed through as Qdrant's own configuration file: checked against Qdrant's default config.yaml."""


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program("prod")


def _release(run: ProgramRun) -> dict[str, Any]:
    return reveal(run.named("brain-qdrant").inputs)


def _paths(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            yield from _paths(value, path)
        else:
            yield path


def _has(tree: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


def _pod(values: dict[str, Any]) -> dict[str, Any]:
    """The PodSpec of the chart's templates/statefulset.yaml for `values` (already merged over the defaults),
    for the fields that template takes from values."""
    image = values["image"]
    unprivileged = image["useUnprivilegedImage"]
    storage_mounts = [
        {"name": "qdrant-storage", "mountPath": "/qdrant/storage"},
        {"name": "qdrant-config", "mountPath": "/qdrant/config/initialize.sh", "subPath": "initialize.sh"},
        {"name": "qdrant-config", "mountPath": "/qdrant/config/production.yaml", "subPath": "production.yaml"},
        {"name": "qdrant-snapshots", "mountPath": "/qdrant/snapshots"},
        {"name": "qdrant-init", "mountPath": "/qdrant/init"},
    ]
    probes = {
        f"{kind}Probe": {
            "httpGet": {"path": "/", "port": 6333},
            **{key: value for key, value in values[f"{kind}Probe"].items() if key != "enabled"},
        }
        for kind in ("liveness", "readiness", "startup")
        if values[f"{kind}Probe"]["enabled"]
    }
    container = {
        "name": "qdrant",
        "image": f"{image['repository']}:{image['tag']}{'-unprivileged' if unprivileged else ''}",
        "env": [{"name": "QDRANT_INIT_FILE_PATH", "value": "/qdrant/init/.qdrant-initialized"}, *values["env"]],
        "ports": [
            {"name": port["name"], "containerPort": port["targetPort"], "protocol": port["protocol"]}
            for port in values["service"]["ports"]
        ],
        **probes,
        "resources": values["resources"],
        "securityContext": values["containerSecurityContext"],
        "volumeMounts": [*storage_mounts, *values["additionalVolumeMounts"]],
    }
    # Root's `chown` of the volumes, unless the image already runs as its own user.
    run_as = values["containerSecurityContext"].get("runAsUser")
    chown = values["updateVolumeFsOwnership"] and not unprivileged and run_as
    init = [{"name": "ensure-dir-ownership", "image": container["image"], "command": ["chown", "-R"]}] if chown else []
    snapshots = [] if values["snapshotPersistence"]["enabled"] else [{"name": "qdrant-snapshots", "emptyDir": {}}]
    return {
        "initContainers": init,
        "containers": [container],
        "securityContext": values["podSecurityContext"],
        "volumes": [
            {"name": "qdrant-config", "configMap": {"name": "qdrant", "defaultMode": 0o755}},
            *snapshots,
            {"name": "qdrant-init", "emptyDir": {}},
            *values["additionalVolumes"],
        ],
    }


def test_the_vendored_chart_is_the_configured_one_and_runs_the_configured_qdrant(run: ProgramRun) -> None:
    release = _release(run)
    chart = yaml_text.load((chart_dir("qdrant", release["version"]) / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"]) == (release["chart"], release["version"])
    assert release["values"]["image"]["tag"] == chart["appVersion"], "the default image is the chart's own Qdrant"


def test_qdrant_config_we_set_is_qdrants_own(run: ProgramRun) -> None:
    """The chart passes `config` through as Qdrant's configuration file, so the chart cannot say whether a key
    there exists (test_manifest_schemas checks every other value against the chart): Qdrant's defaults can."""
    values = _release(run)["values"]
    qdrant_version = values["image"]["tag"]
    qdrant_config = yaml_text.load((ROOT / "vendor" / f"qdrant-{qdrant_version}" / "config.yaml").read_text())
    unknown = [".".join(path) for path in _paths(values[QDRANT_CONFIG_VALUE]) if not _has(qdrant_config, path)]
    assert not unknown, f"Qdrant {qdrant_version} has no config keys {unknown}"


def test_the_charts_pod_passes_the_restricted_standard_and_our_hardening(run: ProgramRun) -> None:
    release = _release(run)
    pod = _pod(_merged(chart_values("qdrant", release["version"]), release["values"]))
    assert pod["initContainers"] == [], "the chart's root chown init container must stay out"
    problems = restricted_violations(pod) + hardening_violations(pod)
    assert not problems, problems


def test_the_charts_pod_is_valid_for_the_cluster_version(run: ProgramRun) -> None:
    release = _release(run)
    pod = _pod(_merged(chart_values("qdrant", release["version"]), release["values"]))
    version = StackConfig.model_fields["cluster"].default.version
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "qdrant-0"}, "spec": pod}
    kubernetes_validate.validate(manifest, version, strict=True)


def test_a_default_chart_pod_would_be_refused(run: ProgramRun) -> None:
    """What the values change: with the chart's own defaults the pod breaks the namespace's standard."""
    release = _release(run)
    defaults = chart_values("qdrant", release["version"])
    pod = _pod(_merged(defaults, {"image": {"repository": "qdrant/qdrant", "tag": release["values"]["image"]["tag"]}}))
    assert restricted_violations(pod), "the chart's defaults were expected to break the restricted standard"

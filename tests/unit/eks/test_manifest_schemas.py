"""Every object of the prod render against the real schemas: built-in kinds against Kubernetes' own (strict, the
cluster's version), custom resources against their CRDs (unknown fields refused), Helm values against the pinned
charts. And the checks themselves: a misspelt key or a wrong type, planted in a rendered object, must fail.

The CRDs and charts are the upstream files in `vendor/` (vendor/README.md).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.eks.balancer import INGRESS_CHART_VERSION
from components.eks.tls import CERT_MANAGER_CHART_VERSION
from tests.support.prod_renders import VARIANTS, ProdRender, render_prod
from tools.manifest_schemas import (
    SCHEMAS_DIR,
    TEMPLATE_VALUES_FILE,
    ManifestSchemas,
    cluster_version,
    strict_crd_schema,
    template_value_paths,
)
from tests.support.renders import run_program

Document = dict[str, Any]


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def render(request: pytest.FixtureRequest) -> ProdRender:
    return render_prod(request.param)


@pytest.fixture(scope="module")
def full_render() -> ProdRender:
    return render_prod("prod-monitoring-in-cluster")


@pytest.fixture(scope="module")
def schemas() -> Path:
    return SCHEMAS_DIR


def _is_builtin(document: Document) -> bool:
    """Kubernetes' own API groups have no dot (`apps/v1`, `v1`) or end in `.k8s.io`; custom ones never do."""
    group = str(document.get("apiVersion", "")).rpartition("/")[0]
    return "apiVersion" in document and ("." not in group or group.endswith(".k8s.io"))


def _problems(checker: ManifestSchemas, documents: dict[str, Document]) -> list[str]:
    return [problem for name, document in sorted(documents.items()) for problem in checker.problems(name, document)]


def _mutated(document: Document, change: Callable[[Document], object]) -> Document:
    planted = copy.deepcopy(document)
    change(planted)
    return planted


def _rename(mapping: dict[str, Any], key: str, new_key: str) -> None:
    mapping[new_key] = mapping.pop(key)


def test_builtin_objects_match_the_kubernetes_schemas_of_the_cluster_version(render: ProdRender) -> None:
    builtin = {name: document for name, document in render.documents.items() if _is_builtin(document)}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= {d["kind"] for d in builtin.values()}, sorted(builtin)
    problems = _problems(ManifestSchemas(render.kubernetes_version, None), builtin)
    assert not problems, "\n".join(problems)


def test_every_object_and_release_matches_its_schema(render: ProdRender, schemas: Path) -> None:
    problems = _problems(ManifestSchemas(render.kubernetes_version, schemas), render.documents)
    assert not problems, "\n".join(problems)


def test_schemas_are_those_of_the_pinned_chart_versions(schemas: Path) -> None:
    for directory in (
        schemas / "crds" / f"nginx-ingress-{INGRESS_CHART_VERSION}",
        schemas / "crds" / f"cert-manager-{CERT_MANAGER_CHART_VERSION}",
        schemas / "charts" / f"nginx-ingress-{INGRESS_CHART_VERSION}",
        schemas / "charts" / f"cert-manager-{CERT_MANAGER_CHART_VERSION}",
    ):
        assert (directory / "SOURCE.md").is_file(), f"{directory} (with SOURCE.md naming its origin) is missing"


def test_the_cluster_version_comes_from_the_render() -> None:
    assert cluster_version(run_program("prod", ["cluster.version='1.35'"]).resources) == "1.35"


def test_a_misspelt_key_or_a_wrong_type_in_a_builtin_object_fails(full_render: ProdRender) -> None:
    checker = ManifestSchemas(full_render.kubernetes_version, None)
    name = "deployment-brain-brain-backend.yaml"
    deployment = full_render.documents[name]

    def misspell(document: Document) -> None:
        _rename(document["spec"]["template"]["spec"]["containers"][0], "image", "imagee")

    def wrong_type(document: Document) -> None:
        document["spec"]["revisionHistoryLimit"] = "ten"

    for change, expected in ((misspell, "'imagee' was unexpected"), (wrong_type, "'ten' is not of type")):
        problems = checker.problems(name, _mutated(deployment, change))
        assert any(expected in problem for problem in problems), f"{change.__name__}: expected {expected!r}, got {problems}"


def test_a_kubernetes_version_without_schemas_is_an_error_naming_the_fix(full_render: ProdRender) -> None:
    name = "deployment-brain-brain-backend.yaml"
    problems = ManifestSchemas("1.99", None).problems(name, full_render.documents[name])
    assert len(problems) == 1 and "pin a newer kubernetes-validate" in problems[0], problems


@pytest.mark.parametrize(
    ("name", "path", "key", "expected"),
    [
        ("virtualserver-brain-brain.yaml", ("spec", "upstreams", 0), "lb-method", "'lb-methodd' was unexpected"),
        ("virtualserver-brain-brain.yaml", ("spec", "tls", "cert-manager"), "cluster-issuer", "'cluster-issuerr'"),
        ("virtualserver-brain-brain.yaml", ("metadata",), "namespace", "'namespacee' was unexpected"),
        ("policy-brain-brain-internal-only.yaml", ("spec", "accessControl"), "allow", "'alloww' was unexpected"),
        ("clusterissuer-cluster-letsencrypt.yaml", ("spec", "acme", "solvers", 0, "http01", "ingress"),
         "ingressClassName", "'ingressClassNamee' was unexpected"),
        ("release-nginx-ingress-nginx-ingress.yaml", ("values", "controller"), "replicaCount",
         "values.controller.replicaCountt: not a key of chart nginx-ingress"),
        ("release-cert-manager-cert-manager.yaml", ("values", "crds"), "keep", "values.crds.keepp: not a key"),
        ("release-brain-qdrant.yaml", ("values",), "persistence", "values.persistencee: not a key of chart qdrant"),
        ("release-brain-prometheus.yaml", ("values", "server", "persistentVolume"), "storageClass",
         "values.server.persistentVolume.storageClasss: not a key of chart prometheus"),
        ("release-brain-prometheus.yaml", ("values", "kube-state-metrics"), "resources",
         "values.kube-state-metrics.resourcess: not a key of chart kube-state-metrics"),  # a subchart's values
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".yaml") else None,
)
def test_a_misspelt_key_in_a_custom_resource_or_helm_values_fails(
    full_render: ProdRender, schemas: Path, name: str, path: tuple[str | int, ...], key: str, expected: str
) -> None:
    def misspell(document: Document) -> None:
        node: Any = document
        for part in path:
            node = node[part]
        _rename(node, key, key + key[-1])

    problems = ManifestSchemas(full_render.kubernetes_version, schemas).problems(name, _mutated(full_render.documents[name], misspell))
    assert any(expected in problem for problem in problems), f"expected {expected!r}, got {problems}"


def test_a_wrong_type_in_helm_values_fails_the_chart_schema(full_render: ProdRender, schemas: Path) -> None:
    name = "release-nginx-ingress-nginx-ingress.yaml"

    def wrong_type(document: Document) -> None:
        document["values"]["controller"]["replicaCount"] = "two"

    problems = ManifestSchemas(full_render.kubernetes_version, schemas).problems(name, _mutated(full_render.documents[name], wrong_type))
    assert any("'two' is not of type 'integer'" in problem for problem in problems), problems


def test_a_custom_resource_or_chart_without_a_schema_fails_naming_what_to_add(full_render: ProdRender, tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    checker = ManifestSchemas(full_render.kubernetes_version, tmp_path)
    virtual_server = checker.problems("vs.yaml", full_render.documents["virtualserver-brain-brain.yaml"])
    assert len(virtual_server) == 1 and "VirtualServer" in virtual_server[0] and str(tmp_path / "crds") in virtual_server[0]
    release = checker.problems("release.yaml", full_render.documents["release-cert-manager-cert-manager.yaml"])
    assert len(release) == 1 and str(tmp_path / "charts" / f"cert-manager-{CERT_MANAGER_CHART_VERSION}") in release[0]


def test_crd_schemas_refuse_what_the_api_server_would_prune() -> None:
    """Structural schemas drop unknown fields silently; strict ones must refuse them, except where the CRD keeps
    unknown fields or declares a map."""
    import jsonschema  # noqa: PLC0415  only this test builds a validator by hand

    schema = strict_crd_schema({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "empty": {"type": "object"},
                },
            }
        },
    })
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta is checked in the tests above
    validator = jsonschema.Draft202012Validator(schema)
    accepted = {"spec": {"name": "a", "labels": {"any": "x"}, "raw": {"any": {"thing": 1}}}}
    assert not list(validator.iter_errors(accepted))
    for refused in ({"spec": {"nam": "a"}}, {"spec": {"empty": {"x": 1}}}, {"sepc": {}}, {"spec": {"labels": {"a": 1}}}):
        assert list(validator.iter_errors(refused)), f"{refused} must be refused"


def test_chart_keys_come_from_its_values_templates_and_schema(tmp_path: Path) -> None:
    """A chart without a values.schema.json: its keys are those its values.yaml sets and its templates read (as
    indexed into template_values.json); a map a template reads whole (toYaml, with, index over a dotted key) takes
    any key below it."""
    chart = tmp_path / "charts" / "demo-1.0.0"
    templates = tmp_path / "templates"
    templates.mkdir()
    chart.mkdir(parents=True)
    (chart / "values.yaml").write_text("image: {tag: '1'}\nresources: {}\nconfig: {log: info}\n")
    (templates / "pod.yaml").write_text(
        "{{ .Values.image.tag }} {{ .Values.image.pullPolicy }} {{ toYaml .Values.config }}\n"
        '{{ index .Values "grafana.ini" }} {{ .Values.extra.enabled }}\n'
    )
    (chart / TEMPLATE_VALUES_FILE).write_text(json.dumps(template_value_paths(templates)))
    checker = ManifestSchemas("1.34", tmp_path)

    def problems(values: Document) -> list[str]:
        return checker.problems("demo.yaml", {"chart": "demo", "version": "1.0.0", "values": values})

    accepted = {
        "image": {"tag": "2", "pullPolicy": "Always"},  # values.yaml, and a template
        "resources": {"limits": {"cpu": "1"}},  # declared empty: a free-form map
        "config": {"anything": {"deep": 1}},  # read whole by a template
        "grafana.ini": {"server": {"root_url": "x"}},  # read whole, a key with a dot
        "extra": {"enabled": True},  # only a template reads it
    }
    assert problems(accepted) == []
    for refused, key in (({"imag": {}}, "values.imag"), ({"image": {"tagg": "2"}}, "values.image.tagg"),
                         ({"extra": {"enable": True}}, "values.extra.enable")):
        found = problems(refused)
        assert len(found) == 1 and f"{key}: not a key of chart demo 1.0.0" in found[0], (refused, found)

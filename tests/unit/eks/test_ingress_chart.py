"""The ingress chart the program installs ships in charts/, its values schema bundled (tools/chart_schema.py): Helm
validates the values without fetching anything, and the chart is upstream's at the pinned version otherwise."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing

from components.eks.balancer import INGRESS_CHART, INGRESS_CHART_VERSION
from tools import chart_schema
from tools.program import ROOT
from tools import yaml_text
from tools.manifest_schemas import coalesced, refs
from tests.support.prod_renders import PLAIN_HTTP
from tests.support.renders import run_program

CHART = ROOT / INGRESS_CHART
VENDORED = ROOT / "vendor"
UPSTREAM_SCHEMA = VENDORED / "charts" / f"nginx-ingress-{INGRESS_CHART_VERSION}" / "values.schema.json"


@functools.cache
def _bundled() -> dict[str, Any]:
    return json.loads((CHART / "values.schema.json").read_text())


def _installed_values(overrides: list[str]) -> dict[str, Any]:
    """What Helm validates: the program's values coalesced over the chart's values.yaml."""
    defaults = yaml_text.load((CHART / "values.yaml").read_text())
    return coalesced(defaults, run_program("prod", overrides).named("brain-ingress").inputs["values"])


@functools.cache
def _offline_validator() -> jsonschema.Draft201909Validator:
    """A validator whose registry retrieves nothing: any `$ref` outside the file raises."""
    return jsonschema.Draft201909Validator(_bundled(), registry=referencing.Registry())


def test_the_bundled_schema_is_the_generator_s_output_from_the_upstream_schema() -> None:
    expected = chart_schema.render(json.loads(UPSTREAM_SCHEMA.read_text()))
    assert (CHART / "values.schema.json").read_text() == expected, (
        f"regenerate: python -m tools.chart_schema {UPSTREAM_SCHEMA.relative_to(ROOT)} {INGRESS_CHART}/values.schema.json"
    )


def test_the_bundled_schema_refers_only_to_itself_and_is_a_valid_schema() -> None:
    schema = _bundled()
    assert any(ref.startswith("http") for ref in refs(json.loads(UPSTREAM_SCHEMA.read_text()))), "upstream changed"
    remote = sorted({ref for ref in refs(schema) if not ref.startswith("#")})
    assert remote == [], f"Helm would fetch these at install: {remote}"
    jsonschema.Draft201909Validator.check_schema(schema)
    resolver = referencing.Registry().resolver_with_root(referencing.Resource.from_contents(schema))
    for ref in set(refs(schema)):
        resolver.lookup(ref)  # raises for a pointer to nothing


@pytest.mark.parametrize("overrides", [[], PLAIN_HTTP], ids=["tls", "plain-http"])
def test_the_program_s_values_pass_the_bundled_schema_offline(overrides: list[str]) -> None:
    values = _installed_values(overrides)
    errors = [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in _offline_validator().iter_errors(values)]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["controller", "replicaCount"], "two"),  # the chart's own schema
        (["controller", "resources", "limts"], {"cpu": "1"}),  # only the bundled Kubernetes definitions know this
        (["controller", "resources", "requests"], {"cpu": {"millis": 500}}),
    ],
    ids=["chart-key", "kubernetes-unknown-field", "kubernetes-bad-quantity"],
)
def test_the_bundled_schema_refuses_bad_values(path: list[str], value: Any) -> None:
    values = _installed_values([])
    assert _offline_validator().is_valid(values)
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    assert not _offline_validator().is_valid(values), f"{'.'.join(path)} = {value!r} was accepted"


def test_the_chart_is_upstream_s_at_the_pinned_version() -> None:
    vendored_chart = VENDORED / "charts" / f"nginx-ingress-{INGRESS_CHART_VERSION}"
    for name in ("Chart.yaml", "values.yaml"):
        assert (CHART / name).read_bytes() == (vendored_chart / name).read_bytes(), name
    assert yaml_text.load((CHART / "Chart.yaml").read_text())["version"] == INGRESS_CHART_VERSION
    shipped = {document["metadata"]["name"]: document for document in yaml_text.load_all((CHART / "crds" / "crds.yaml").read_text())}
    vendored_crds = sorted((VENDORED / "crds" / f"nginx-ingress-{INGRESS_CHART_VERSION}").glob("*.yaml"))
    assert vendored_crds
    for path in vendored_crds:
        crd = yaml_text.load(path.read_text())
        assert shipped[crd["metadata"]["name"]] == crd, f"{path.name} differs from the shipped crds.yaml"


def test_the_generator_refuses_a_ref_it_cannot_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "values.schema.json"
    source.write_text(json.dumps({"properties": {"a": {"$ref": "https://example.com/other.json#/definitions/A"}}}))
    assert chart_schema.main([str(source), str(tmp_path / "out.json")]) == 1
    assert "https://example.com/other.json#/definitions/A" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()

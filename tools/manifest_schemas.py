"""Rendered manifests checked against the schemas of their ecosystem, strictly (a misspelt key is an error):

- built-in kinds against the Kubernetes OpenAPI schemas of the cluster's version (kubernetes-validate, strict);
- custom resources against their CRD's `openAPIV3Schema`, with every unknown field refused (the API server
  would silently prune it: structural schemas say nothing of additionalProperties) and `metadata` as ObjectMeta;
- Helm releases' values against the pinned chart's `values.schema.json`, and every key against the keys the
  chart declares (its schema, its `values.yaml` and the `.Values` paths its templates read, listed in `template_values.json`).

CRDs and charts come from a directory of upstream files (`vendor/`): `crds/<source>-<version>/*.yaml` (any
CustomResourceDefinition under `crds/` serves the kinds it defines) and `charts/<chart>-<version>/`
(`values.schema.json`, `values.yaml`, `template_values.json`), each copied from the upstream release with a SOURCE.md
naming it. A new chart or custom resource kind only needs its directory added there.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import validator_for
import kubernetes_validate
from kubernetes_validate import utils as kubernetes_schemas
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from tools.program import ROOT, RegisteredResource
from tools import yaml_text

SCHEMAS_DIR = ROOT / "vendor"
"""The upstream CRDs and charts, copied at the pinned versions (vendor/README.md)."""
CLUSTER_TYPES = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
"""Resources whose `version` input is the cluster's Kubernetes version."""
KUBERNETES_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
"""The `$id` of kubernetes-validate's shared definitions."""
OBJECT_META = f"{KUBERNETES_DEFINITIONS}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
REMOTE_KUBERNETES_DEFINITIONS = re.compile(
    r"https://raw\.githubusercontent\.com/[\w-]+/kubernetes-json-schema/[\w.-]+/v?(\d+\.\d+)\.\d+[\w-]*/_definitions\.json"
)
"""Charts' schemas `$ref` Kubernetes definitions online (nginx/kubernetes-ingress#10667); resolved offline here."""
_TEMPLATE_VALUES = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)|index \$?\.Values((?:\s+\"[^\"]+\")+)")
"""`.Values.a.b` and `index .Values "a" "b.c"` (keys with dots) in a chart's templates."""


def cluster_version(resources: Iterable[RegisteredResource]) -> str:
    """The Kubernetes version the render's cluster runs, from its cluster resource's `version` input."""
    versions = {str(r.inputs["version"]) for r in resources if r.type in CLUSTER_TYPES and r.inputs.get("version")}
    if len(versions) != 1:
        raise ValueError(f"expected one cluster with a version among {sorted(CLUSTER_TYPES)}, found {sorted(versions)}")
    return versions.pop()


@dataclass
class ManifestSchemas:
    """Validates manifest documents (as tools/manifests.py writes them) for one Kubernetes version."""

    kubernetes_version: str
    directory: Path | None = SCHEMAS_DIR
    """The CRDs and charts; with None only built-in kinds can be checked."""

    def problems(self, name: str, document: Mapping[str, Any]) -> list[str]:
        """What is wrong with one manifest file's document, one line each, prefixed with the file's name."""
        if "file" in document and "apiVersion" not in document:
            return []  # a ConfigFile: its objects are read by the provider at deploy time
        if "chart" in document and "apiVersion" not in document:
            found = self._release_problems(document)
        elif (document.get("apiVersion"), document.get("kind")) in self._custom_kinds:
            found = self._custom_resource_problems(document)
        else:
            found = self._builtin_problems(document)
        return [f"{name}: {problem}" for problem in found]

    def _builtin_problems(self, document: Mapping[str, Any]) -> list[str]:
        try:
            validate_builtin(document, self.kubernetes_version)
        except kubernetes_validate.ValidationError as invalid:
            return [f"{_path(invalid.path)}: {invalid.message} (Kubernetes {invalid.version}, strict)"]
        except kubernetes_schemas.SchemaNotFoundError as missing:
            where = f"no CustomResourceDefinition for it under {self.directory / 'crds'}" if self.directory else (
                "no schema directory to find its CustomResourceDefinition in"
            )
            return [f"{missing.message}; {where}"]
        except kubernetes_schemas.VersionNotSupportedError:
            return [
                f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for Kubernetes "
                f"{self.kubernetes_version}: pin a newer kubernetes-validate in requirements-test.txt"
            ]
        return []

    def _custom_resource_problems(self, document: Mapping[str, Any]) -> list[str]:
        schema = self._custom_kinds[(document["apiVersion"], document["kind"])]
        validator = jsonschema.Draft202012Validator(schema, registry=self._kubernetes_registry)
        return [
            f"{_path(error.absolute_path)}: {error.message} ({document['kind']} CRD, unknown fields refused)"
            for error in sorted(validator.iter_errors(dict(document)), key=lambda error: list(map(str, error.path)))
        ]

    def _release_problems(self, release: Mapping[str, Any]) -> list[str]:
        chart_name = str(release["chart"]).rstrip("/").rsplit("/", 1)[-1]
        version = str(release.get("version", ""))
        if self.directory is None:
            return [f"no schema directory to find chart {chart_name} {version} in"]
        directory = self.directory / "charts" / f"{chart_name}-{version}"
        if not directory.is_dir():
            return [f"no schema of chart {chart_name} {version}: add its values.yaml (and values.schema.json, "
                    f"{TEMPLATE_VALUES_FILE}, SOURCE.md) under {directory}"]
        chart = _chart(chart_name, version, directory)
        return chart.problems(release.get("values") or {}, self._major_minor)

    @cached_property
    def _major_minor(self) -> str:
        return kubernetes_schemas.major_minor(self.kubernetes_version)

    @property
    def _kubernetes_registry(self) -> Registry:
        return _kubernetes_registry(self._major_minor, frozenset())

    @cached_property
    def _custom_kinds(self) -> dict[tuple[str, str], dict[str, Any]]:
        crds = self.directory / "crds" if self.directory else None
        return load_crd_schemas(crds) if crds and crds.is_dir() else {}


@functools.cache
def _kubernetes_registry(major_minor: str, remote_uris: frozenset[str]) -> Registry:
    """Kubernetes' strict definitions by their `$id`, and each remote kubernetes-json-schema `_definitions.json`
    a chart's schema names, served from kubernetes-validate's (the suite runs offline; `#/definitions/...` and
    `#/$defs/...` both resolve). Crawled once: a lookup then finds every definition at once."""
    resources = [(KUBERNETES_DEFINITIONS, strict_definitions(major_minor))]
    for uri in sorted(remote_uris):
        match = REMOTE_KUBERNETES_DEFINITIONS.fullmatch(uri)
        if match is None:
            raise NoSuchResource(ref=uri)  # never fetched
        defs = strict_definitions(match.group(1))["$defs"]
        resources.append((uri, {"$defs": defs, "definitions": defs}))
    return Registry().with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT202012)) for uri, contents in resources
    ).crawl()


@functools.cache
def load_crd_schemas(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema of every served version of every CRD under `directory`."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    origins: dict[tuple[str, str], Path] = {}
    for path in sorted(directory.rglob("*.yaml")):
        for document in yaml_text.load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                if key in schemas:
                    raise ValueError(f"{key[0]} {key[1]} is defined by both {origins[key]} and {path}: keep one version")
                schemas[key], origins[key] = strict_crd_schema(version["schema"]["openAPIV3Schema"]), path
    return schemas


def strict_crd_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A CRD schema with the API server's pruning made an error: every object that does not keep unknown fields
    (`x-kubernetes-preserve-unknown-fields`) and declares no `additionalProperties` gets `additionalProperties:
    false`; the root's `metadata` is checked as ObjectMeta."""
    strict = _refuse_unknown_fields(copy.deepcopy(dict(schema)))
    strict.setdefault("properties", {})["metadata"] = {"$ref": OBJECT_META}
    return strict


def _refuse_unknown_fields(node: Any) -> Any:
    if isinstance(node, list):
        return [_refuse_unknown_fields(item) for item in node]
    if not isinstance(node, dict):
        return node
    walked = {
        key: ({name: _refuse_unknown_fields(value) for name, value in child.items()} if key == "properties" else
              _refuse_unknown_fields(child))
        for key, child in node.items()
    }
    is_object = walked.get("type") == "object" or "properties" in walked
    if is_object and "additionalProperties" not in walked and not walked.get("x-kubernetes-preserve-unknown-fields"):
        walked["additionalProperties"] = False
    return walked


@functools.cache
def strict_definitions(major_minor: str) -> dict[str, Any]:
    """kubernetes-validate's strict definitions for the newest version not newer than `major_minor`."""
    return kubernetes_schemas.schema_contents(
        f"kubernetes-json-schema/v{_schema_version(major_minor)}-local-strict/_definitions.json", major_minor
    )


def validate_builtin(document: Mapping[str, Any], kubernetes_version: str) -> None:
    """`kubernetes_validate.validate(document, kubernetes_version, strict=True)`, same schemas and errors, with
    each kind's validator built once: the library re-reads its 1.5 MB of definitions on every call."""
    major_minor = kubernetes_schemas.major_minor(kubernetes_version.removeprefix("v"))
    if major_minor > kubernetes_schemas.latest_version():
        raise kubernetes_schemas.VersionNotSupportedError(version=major_minor)
    validator = _builtin_validator(major_minor, str(document["apiVersion"]), str(document["kind"]))
    try:
        validator.validate(dict(document))
    except jsonschema.ValidationError as invalid:
        raise kubernetes_validate.ValidationError(
            invalid, version=kubernetes_schemas.major_minor(_schema_version(major_minor))
        ) from None


@functools.cache
def _builtin_validator(major_minor: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    # kubernetes-validate's file naming: `rbac.authorization.k8s.io/v1` -> `rbac-v1`, `v1` -> `v1`.
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = f"kubernetes-json-schema/v{_schema_version(major_minor)}-local-strict/{kind.lower()}-{api}.json"
    try:
        schema = kubernetes_schemas.schema_contents(path, major_minor)
    except FileNotFoundError:
        raise kubernetes_schemas.SchemaNotFoundError(version=major_minor, kind=kind, api_version=api_version) from None
    return jsonschema.Draft202012Validator(schema, registry=_kubernetes_registry(major_minor, frozenset()))


def _schema_version(major_minor: str) -> str:
    """The newest schema version kubernetes-validate has that is not newer than `major_minor`."""
    versions = [v for v in kubernetes_schemas.all_versions() if kubernetes_schemas.major_minor(v) <= major_minor]
    if not versions:
        raise kubernetes_schemas.VersionNotSupportedError(version=major_minor)
    return versions[-1]


TEMPLATE_VALUES_FILE = "template_values.json"
"""The `.Values` paths a chart's templates read, one JSON list of keys each (`python -m tools.manifest_schemas
TEMPLATES_DIR` writes it): the templates themselves are code and are not copied into vendor/."""


def template_value_paths(templates: Path) -> list[tuple[str, ...]]:
    """Every `.Values` path the chart templates under `templates` read, sorted."""
    return sorted(
        {
            tuple(match.group(1).lstrip(".").split(".")) if match.group(1) else tuple(re.findall(r'"([^"]+)"', match.group(2)))
            for template in templates.rglob("*")
            if template.is_file()
            for match in _TEMPLATE_VALUES.finditer(template.read_text(encoding="utf-8", errors="replace"))
        }
    )


@functools.cache
def _chart(name: str, version: str, directory: Path) -> _Chart:
    return _Chart(name, version, directory)


class _Chart:
    """One chart version's declared values: its schema (validated as such) and its known keys."""

    def __init__(self, name: str, version: str, directory: Path):
        self.label = f"chart {name} {version}"
        schema_file = directory / "values.schema.json"
        self.schema: dict[str, Any] | None = json.loads(schema_file.read_text()) if schema_file.is_file() else None
        self.remote_documents = frozenset(
            ref.partition("#")[0] for ref in refs(self.schema) if ref.startswith(("http://", "https://"))
        )
        """The online documents the schema `$ref`s (served offline by `_kubernetes_registry`)."""
        defaults_file = directory / "values.yaml"
        self.defaults: Any = yaml_text.load(defaults_file.read_text()) if defaults_file.is_file() else {}
        paths_file = directory / TEMPLATE_VALUES_FILE
        self.template_paths = {tuple(path) for path in json.loads(paths_file.read_text())} if paths_file.is_file() else set()
        subcharts = sorted(path for path in (directory / "charts").glob("*-*") if path.is_dir())
        self.subcharts = {
            path.name.rsplit("-", 1)[0]: _Chart(*path.name.rsplit("-", 1), directory=path) for path in subcharts
        }
        """Dependencies as Helm nests them (`charts/<name>-<locked version>/`): their values sit under `<name>:`."""

    def problems(self, values: Mapping[str, Any], major_minor: str) -> list[str]:
        """Unknown keys in `values`; then, as Helm does, the schema checked on the chart's defaults overlaid
        with `values`."""
        found = [f"values.{key}: not a key of {self.label} (its values.schema.json, values.yaml and templates)"
                 for key in self._unknown_keys(values)]
        for name, subchart in self.subcharts.items():
            if isinstance(values.get(name), dict):
                # Keys the parent declares there (`enabled`, the dependency's condition) are the parent's.
                parents = (self.defaults or {}).get(name) or {}
                own = {key: value for key, value in values[name].items() if key not in parents}
                found += [problem.replace("values.", f"values.{name}.", 1)
                          for problem in subchart.problems(own, major_minor)]
        if self.schema is not None:
            validator_class = validator_for(self.schema, default=jsonschema.Draft202012Validator)
            validator = validator_class(self.schema, registry=_kubernetes_registry(major_minor, self.remote_documents))
            found += [f"values.{_path(error.absolute_path)}: {error.message} ({self.label} values.schema.json)"
                      for error in validator.iter_errors(coalesced(self.defaults, values))]
        return found

    def _unknown_keys(self, values: Mapping[str, Any]) -> Iterator[str]:
        """Keys under a map whose children the chart declares, yet not among them. A map the chart declares no
        children of (`annotations: {}`), or that a template reads whole (`toYaml .Values.x`, `with .Values.x`,
        whose children it then reads unseen), takes any key."""

        def walk(value: Any, path: tuple[str, ...], schema: Any, defaults: Any) -> Iterator[str]:
            schema = self._resolve(schema)
            free_form = path in self.template_paths or (
                isinstance(schema, dict) and isinstance(schema.get("additionalProperties"), dict)
            )
            if not isinstance(value, dict) or free_form:
                return
            declared = set(schema.get("properties", {})) if isinstance(schema, dict) else set()
            declared |= set(defaults) if isinstance(defaults, dict) else set()
            declared |= {p[len(path)] for p in self.template_paths if len(p) > len(path) and p[: len(path)] == path}
            for key, child in value.items():
                if not path and key in self.subcharts:
                    continue  # checked against the subchart's own values
                if declared and key not in declared:
                    yield ".".join((*path, key))
                    continue
                child_schema = schema.get("properties", {}).get(key) if isinstance(schema, dict) else None
                child_defaults = defaults.get(key) if isinstance(defaults, dict) else None
                yield from walk(child, (*path, key), child_schema, child_defaults)

        yield from walk(dict(values), (), self.schema, self.defaults)

    def _resolve(self, schema: Any) -> Any:
        """A schema node with its local `$ref`s followed (remote ones are left to the schema validation)."""
        while isinstance(schema, dict) and str(schema.get("$ref", "")).startswith("#/") and self.schema is not None:
            target: Any = self.schema
            for part in schema["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = target
        return schema


def coalesced(defaults: Any, values: Any) -> Any:
    """Helm's coalescing of user values onto a chart's values.yaml: maps merge key by key, anything else of the
    user's replaces the chart's. A new value: neither input is changed."""
    if not (isinstance(defaults, dict) and isinstance(values, dict)):
        return copy.deepcopy(values)
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        merged[key] = coalesced(defaults.get(key), value)
    return merged


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` in a schema."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def _path(parts: Sequence[Any] | Iterable[Any]) -> str:
    return ".".join(str(part) for part in parts) or "(root)"


if __name__ == "__main__":
    import sys

    json.dump(template_value_paths(Path(sys.argv[1])), sys.stdout, indent=0)
    sys.stdout.write("\n")

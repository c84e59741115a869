"""Kubernetes objects as the cluster would receive them, derived generically from recorded resources.

Any custom resource whose type starts with `kubernetes:` becomes one YAML file
`<kind>-<namespace>-<name>.yaml`; a Helm release becomes its chart, version, repository, namespace and values;
a yaml/v2 ConfigFile its file (its objects exist only once the provider reads it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from tools.program import RegisteredResource, reveal, reviewable

KUBERNETES_PREFIX = "kubernetes:"
HELM_RELEASE_TYPES = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"})
"""Helm releases: the v3 Release resource and the v4 Chart (a provider-implemented component)."""
HELM_RELEASE_FIELDS = ("name", "namespace", "chart", "version", "repositoryOpts", "values")
CONFIG_FILE_TYPE = "kubernetes:yaml/v2:ConfigFile"
"""A manifest file the provider reads and applies (e.g. CRDs from an upstream release): shown as its path or URL."""
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterIssuer",  # cert-manager
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "PersistentVolume",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
    }
)
"""Kinds without a namespace: their file name says `cluster` where a namespaced object says its namespace."""
DEFAULT_NAMESPACE = "default"
_UNSAFE_IN_FILE_NAME = re.compile(r"[^a-z0-9.-]+")


def manifest_files(resources: Sequence[RegisteredResource]) -> dict[str, str]:
    """File name -> YAML text, one Kubernetes object (or Helm release) a file, secrets masked."""
    return {
        name: yaml.safe_dump(body, sort_keys=False, default_flow_style=False, allow_unicode=True)
        for name, body in manifest_documents(resources).items()
    }


def manifest_documents(resources: Sequence[RegisteredResource], reveal_secrets: bool = False) -> dict[str, dict[str, Any]]:
    """File name -> document, one Kubernetes object (or Helm release) a file; secrets masked unless
    `reveal_secrets` (for schema checks, which need a secret's real shape: under mocks no secret is real).

    An object without `metadata.name` gets the resource name: Pulumi adds a random suffix to it on deploy.
    """
    files: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for resource in resources:
        document = _document(resource, reveal_secrets)
        if document is None:
            continue
        kind, namespace, name, body = document
        file_name = "-".join(_UNSAFE_IN_FILE_NAME.sub("-", part.lower()) for part in (kind, namespace, name)) + ".yaml"
        if file_name in files:
            raise ValueError(
                f"{resource.type} {resource.name!r} and {owners[file_name]} both render as manifests/{file_name}"
            )
        owners[file_name] = f"{resource.type} {resource.name!r}"
        files[file_name] = body
    return files


def _document(resource: RegisteredResource, reveal_secrets: bool) -> tuple[str, str, str, dict[str, Any]] | None:
    """(kind, namespace, name, body) of one resource, or None when Kubernetes never sees it."""
    if not resource.type.startswith(KUBERNETES_PREFIX):
        return None
    inputs = reviewable(reveal(resource.inputs) if reveal_secrets else resource.inputs)
    if resource.type in HELM_RELEASE_TYPES:
        release = {field: inputs[field] for field in HELM_RELEASE_FIELDS if field in inputs}
        release.setdefault("name", resource.name)
        kind = resource.type.rsplit(":", 1)[1]
        return kind, str(release.get("namespace") or DEFAULT_NAMESPACE), str(release["name"]), release
    if resource.type == CONFIG_FILE_TYPE:
        return "ConfigFile", "cluster", resource.name, {"file": inputs["file"]}
    if not resource.custom:
        return None  # a component (e.g. ConfigGroup): its objects are registered as resources of their own
    _, group_version, type_kind = resource.type.split(":", 2)
    kind = str(inputs.get("kind") or type_kind)
    metadata = inputs.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata.setdefault("name", resource.name)
    namespace = metadata.get("namespace") or ("cluster" if kind in CLUSTER_SCOPED_KINDS else DEFAULT_NAMESPACE)
    body = {
        "apiVersion": inputs.get("apiVersion") or group_version.removeprefix("core/"),
        "kind": kind,
        "metadata": metadata,
        **{key: value for key, value in inputs.items() if key not in ("apiVersion", "kind", "metadata")},
    }
    return kind, str(namespace), str(metadata["name"]), body

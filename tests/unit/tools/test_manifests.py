"""Manifest export: every Kubernetes object a file, as the cluster sees it; Helm releases as chart and values."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi.runtime import rpc
from tools.manifests import manifest_documents, manifest_files
from tools.program import SECRET_PLACEHOLDER, SECRET_SIG, RegisteredResource
from tools import yaml_text

PLANTED_SECRET = "planted-secret-value"


def _secret(value: Any) -> dict[str, Any]:
    """A value wrapped the way the engine receives a secret."""
    return {rpc._special_sig_key: SECRET_SIG, "value": value}  # noqa: SLF001


def _resource(type_: str, name: str, inputs: dict[str, Any], custom: bool = True) -> RegisteredResource:
    return RegisteredResource(type=type_, name=name, urn=f"urn:{name}", parent=None, inputs=inputs, custom=custom)


RECORDED = [
    _resource("pulumi:providers:kubernetes", "k8s", {"kubeconfig": _secret(PLANTED_SECRET)}),
    _resource("brain:eks:Balancer", "brain", {}, custom=False),
    _resource("kubernetes:core/v1:Namespace", "brain-ns", {"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": "brain"}}),
    _resource("kubernetes:apps/v1:Deployment", "brain-backend", {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "backend", "namespace": "brain", "labels": {"app": "backend"}},
        "spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 0.0}}, "template": {"spec": {"containers": [
            {"name": "backend", "ports": [{"containerPort": 8000.0}], "env": [_secret({"name": "X", "value": "y"})]}
        ]}}},
    }),
    _resource("kubernetes:core/v1:Secret", "brain-data", {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"namespace": "brain"},
        "stringData": {"DATABASE_URL": _secret(f"postgresql://brain:{PLANTED_SECRET}@db/brain")},
    }),
    _resource("kubernetes:k8s.nginx.org/v1:VirtualServer", "brain-vs", {
        "apiVersion": "k8s.nginx.org/v1",
        "kind": "VirtualServer",
        "metadata": {"name": "brain", "namespace": "brain"},
        "spec": {"upstreams": [{"name": "api", "lb-method": "least_conn", "max-fails": 3.0, "fail-timeout": "30s"}]},
    }),
    _resource("kubernetes:helm.sh/v3:Release", "brain-qdrant", {
        "name": "qdrant",
        "namespace": "brain",
        "chart": "qdrant",
        "version": "1.16.1",
        "repositoryOpts": {"repo": "https://qdrant.github.io/qdrant-helm"},
        "values": {"replicaCount": 1.0, "apiKey": _secret(PLANTED_SECRET)},
        "createNamespace": False,
    }),
    _resource("kubernetes:yaml/v2:ConfigGroup", "brain-extra", {"yaml": "kind: ConfigMap"}, custom=False),
]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return manifest_files(RECORDED)


def test_each_kubernetes_object_and_release_gets_one_file(files: dict[str, str]) -> None:
    assert sorted(files) == [
        "deployment-brain-backend.yaml",
        "namespace-cluster-brain.yaml",
        "release-brain-qdrant.yaml",
        "secret-brain-brain-data.yaml",
        "virtualserver-brain-brain.yaml",
    ], "providers, our components and provider components (ConfigGroup) must not become manifests"
    for name, text in files.items():
        assert len(list(yaml_text.load_all(text))) == 1, f"{name} must hold exactly one YAML document"


def test_objects_carry_api_version_kind_metadata_and_spec_as_kubernetes_sees_them(files: dict[str, str]) -> None:
    virtual_server = yaml_text.load(files["virtualserver-brain-brain.yaml"])
    assert list(virtual_server)[:3] == ["apiVersion", "kind", "metadata"]
    assert virtual_server["apiVersion"] == "k8s.nginx.org/v1"
    assert virtual_server["spec"]["upstreams"][0] == {
        "name": "api", "lb-method": "least_conn", "max-fails": 3, "fail-timeout": "30s"
    }, "integral numbers must be ints, as the manifest author wrote them"
    deployment = yaml_text.load(files["deployment-brain-backend.yaml"])
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment["metadata"]["labels"] == {"app": "backend"}


def test_an_object_without_a_name_is_named_after_its_resource(files: dict[str, str]) -> None:
    assert yaml_text.load(files["secret-brain-brain-data.yaml"])["metadata"] == {
        "name": "brain-data", "namespace": "brain"
    }


def test_helm_release_is_its_chart_version_repository_namespace_and_values(files: dict[str, str]) -> None:
    assert yaml_text.load(files["release-brain-qdrant.yaml"]) == {
        "name": "qdrant",
        "namespace": "brain",
        "chart": "qdrant",
        "version": "1.16.1",
        "repositoryOpts": {"repo": "https://qdrant.github.io/qdrant-helm"},
        "values": {"apiKey": SECRET_PLACEHOLDER, "replicaCount": 1},
    }


def test_secrets_are_masked_in_every_manifest(files: dict[str, str]) -> None:
    leaks = [name for name, text in files.items() if PLANTED_SECRET in text]
    assert not leaks, f"secret values written to {leaks}"
    assert yaml_text.load(files["secret-brain-brain-data.yaml"])["stringData"] == {"DATABASE_URL": SECRET_PLACEHOLDER}


def test_two_objects_rendering_to_one_file_is_an_error() -> None:
    twin = _resource("kubernetes:core/v1:Namespace", "brain-ns-again", RECORDED[2].inputs)
    with pytest.raises(ValueError, match="brain-ns-again.*brain-ns.*namespace-cluster-brain.yaml"):
        manifest_files([RECORDED[2], twin])


def test_a_config_file_is_its_file_and_a_cluster_issuer_is_cluster_scoped() -> None:
    url = "https://example.test/v1.2.3/crds.yaml"
    files = manifest_files([
        _resource("kubernetes:yaml/v2:ConfigFile", "brain-crds", {"file": url}, custom=False),
        _resource("kubernetes:cert-manager.io/v1:ClusterIssuer", "brain-issuer", {
            "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt"},
        }),
    ])
    assert sorted(files) == ["clusterissuer-cluster-letsencrypt.yaml", "configfile-cluster-brain-crds.yaml"]
    assert yaml_text.load(files["configfile-cluster-brain-crds.yaml"]) == {"file": url}


def test_documents_reveal_secrets_only_when_asked() -> None:
    masked = manifest_documents(RECORDED)["secret-brain-brain-data.yaml"]
    revealed = manifest_documents(RECORDED, reveal_secrets=True)["secret-brain-brain-data.yaml"]
    assert masked["stringData"] == {"DATABASE_URL": SECRET_PLACEHOLDER}
    assert revealed["stringData"] == {"DATABASE_URL": f"postgresql://brain:{PLANTED_SECRET}@db/brain"}

"""The prod stack rendered in the variants that together create every object kind it can, for the checks that
look at all of them (schemas, checkov)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.manifest_schemas import cluster_version
from tools.manifests import manifest_documents
from tests.support.renders import run_program

PLAIN_HTTP = ["balancer.tls.enabled=false", "balancer.tls.email=", "cluster.host=brain.internal"]
"""Prod without TLS, and so with neither an e-mail address nor a public host name, which only TLS needs: the one
TLS-off config the tests share a run of."""

VARIANTS = {
    "prod": [],
    "prod-monitoring-in-cluster": ["monitoring.enabled=true", "data.mode=in_cluster"],
    "prod-plain-http": PLAIN_HTTP,
}
"""Variant name -> `--set` overrides of Pulumi.prod.yaml."""


@dataclass
class ProdRender:
    kubernetes_version: str
    """The cluster's version, as the render creates it."""
    documents: dict[str, dict[str, Any]]
    """Manifest file name -> document, secrets revealed (mock values) so they keep their real shape."""


def render_prod(variant: str) -> ProdRender:
    run = run_program("prod", VARIANTS[variant])
    return ProdRender(cluster_version(run.resources), manifest_documents(run.resources, reveal_secrets=True))

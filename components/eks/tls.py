"""Certificates for the prod endpoint: cert-manager (Helm) and a Let's Encrypt ClusterIssuer that answers HTTP-01
challenges through the F5 NGINX Ingress Controller. The VirtualServer asks for its certificate by naming the issuer
(`spec.tls.cert-manager`); the controller then creates the Certificate itself."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import TlsConfig
from components.eks.release_namespace import release_namespace
from components.node_capacity import CERT_MANAGER

CERT_MANAGER_CHART = "cert-manager"
CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io"
CERT_MANAGER_CHART_VERSION = "v1.21.1"
CERT_MANAGER_NAMESPACE = "cert-manager"
ACME_SERVERS = {
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt_staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
"""balancer.tls.issuer as the ACME directory the ClusterIssuer registers with."""


@dataclass
class CertificateIssuerArgs:
    """What the issuer is built from."""

    settings: TlsConfig
    """Which Let's Encrypt directory, and the account's contact address."""
    ingress_class: str
    """The IngressClass of the controller that serves the HTTP-01 challenges (cert-manager's solver Ingress)."""


class CertificateIssuer(pulumi.ComponentResource):
    """cert-manager and one ClusterIssuer. cert-manager's CRDs come from the chart's templates (`crds.enabled`), which Helm
    upgrades with the release, unlike a chart's `crds/` directory; `crds.keep` leaves them (and so every
    Certificate) in place if the release is ever uninstalled."""

    name: str
    """The ClusterIssuer's name, for a VirtualServer's `tls.cert-manager.cluster-issuer` (which must also depend
    on this component: a component dependency waits for all its children)."""
    release: k8s.helm.v3.Release
    """cert-manager itself: whatever watches cert-manager's kinds must wait for it."""

    def __init__(self, name: str, args: CertificateIssuerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:eks:CertificateIssuer", name, None, opts)
        settings = args.settings
        # The requests the config's capacity check budgets for each of cert-manager's pods.
        requests = CERT_MANAGER.requests
        resources = {"requests": {"cpu": f"{requests.cpu_millis}m", "memory": f"{requests.memory_mib}Mi"}}
        self.release = k8s.helm.v3.Release(
            f"{name}-cert-manager",
            k8s.helm.v3.ReleaseArgs(
                name="cert-manager",
                chart=CERT_MANAGER_CHART,
                version=CERT_MANAGER_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CERT_MANAGER_CHART_REPO),
                namespace=release_namespace(f"{name}-cert-manager", CERT_MANAGER_NAMESPACE, self),
                values={
                    "crds": {"enabled": True, "keep": True},
                    "resources": resources,
                    "cainjector": {"resources": resources},
                    # Two webhooks: with none answering, the API server refuses every cert-manager object.
                    "webhook": {
                        "replicaCount": 2,
                        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
                        "resources": resources,
                    },
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = settings.issuer.replace("_", "-")
        # The Release resource waits for the chart's Deployments (the webhook among them) to be ready, so the
        # ClusterIssuer is admitted once it is created.
        k8s.apiextensions.CustomResource(
            f"{name}-cluster-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=self.name),
            spec={
                "acme": {
                    "server": ACME_SERVERS[settings.issuer],
                    "email": settings.email,
                    "privateKeySecretRef": {"name": f"{self.name}-account-key"},
                    # cert-manager serves the token from a solver pod behind a temporary Ingress of this class;
                    # the F5 controller (with enableCertManager) merges it into the VirtualServer of that host.
                    "solvers": [{"http01": {"ingress": {"ingressClassName": args.ingress_class}}}],
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.register_outputs({"name": self.name})

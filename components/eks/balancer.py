"""Balancer for the prod target: the F5 NGINX Ingress Controller behind an AWS NLB, and a VirtualServer that
gives `/api` and `/ws/` their own upstreams (algorithm, passive health checks, timeouts, keepalive) and, with
`balancer.tls`, terminates HTTPS with a Let's Encrypt certificate and redirects plain HTTP to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.args import BalancerArgs
from components.config import BalancerConfig
from components.eks.cluster import Platform
from components.eks.release_namespace import release_namespace
from components.eks.tls import CertificateIssuer, CertificateIssuerArgs

INGRESS_CHART_VERSION = "2.6.4"
INGRESS_CHART = "charts/nginx-ingress"
"""The F5 chart (controller 5.5.4, open source) as shipped in this repository, its values schema bundled so an
install fetches nothing (charts/nginx-ingress/SOURCE.md). Relative to the project directory, the working
directory the engine starts providers in (pulumi/pulumi `newPlugin(ctx, ctx.Pwd, ...)`); pulumi-kubernetes'
`locateChart` then `os.Stat`s it and loads a directory holding a Chart.yaml before it would download anything.
Not an absolute path: that would differ between checkouts and show the release as changed in everyone else's
preview. `version=` does not pick a local chart (Check replaces it with the Chart.yaml's): it is given so a bump
shows in the preview as the release's version changing (test_ingress_chart checks the two agree)."""
INGRESS_CRDS = f"{INGRESS_CHART}/crds/crds.yaml"
"""The controller's CRDs (VirtualServer, VirtualServerRoute, TransportServer, Policy, GlobalConfiguration,
DNSEndpoint): the release's `deploy/crds.yaml`, the file F5's upgrade guide applies before a chart upgrade.
yaml/v2 reads a path with os.ReadFile in the provider's working directory, as for the chart."""
CONTROLLER_NAMESPACE = "nginx-ingress"
CONTROLLER_REPLICAS = 2
"""Two controllers in different pods: one can restart or move while the other keeps serving."""
CONTROLLER_LABELS = {"app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "brain"}
INGRESS_CLASS = "nginx"
STATUS_PORT = 8080
TLS_SECRET = "brain-tls"
"""Where cert-manager keeps the certificate the controller serves for the VirtualServer's host."""
HTTPS_REDIRECT = {"enable": True, "code": 308, "basedOn": "scheme"}
"""308, not 301: a client repeats a redirected POST as a POST. `scheme` is right behind a TCP (layer 4) NLB:
nginx itself sees whether the connection is TLS."""
METRICS_PORT = 9113
"""The controllers' Prometheus endpoint (chart value `prometheus.port`); monitoring scrapes it on each pod."""
LB_METHODS = {
    "round_robin": "round_robin",
    "least_conn": "least_conn",
    "ip_hash": "ip_hash",
    # Keyed on the whole client address (ip_hash buckets clients by /24), and a scale event remaps few clients.
    "consistent_hash": "hash $binary_remote_addr consistent",
}
"""balancer.algorithm and balancer.websocket_affinity as VirtualServer `lb-method`s. `weighted` has no entry:
pods carry no weights, and the config refuses it for eks. Always set: the controller's default is
`random two least_conn`, not round robin."""
NEXT_UPSTREAM = "error timeout http_502 http_503 http_504"
"""As on docker: a failed or unavailable replica hands the request to the next (never a sent non-idempotent one)."""


class Balancer(pulumi.ComponentResource):
    """The controller's CRDs, the controller (a Helm release), our VirtualServer and, with TLS, cert-manager.

    Routes: `/ws/` to the sticky WebSocket upstream; `/metrics` only from inside the VPC; every other path
    (`/api/...`, `/health/ready`, `/health/live`) to the API upstream, as on docker.
    """

    url: pulumi.Output[str]
    status_url: pulumi.Output[str]

    def __init__(self, name: str, args: BalancerArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            "brain:eks:Balancer",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=args.platform.providers)),
        )
        platform, settings = args.platform, args.settings
        tls = settings.tls.enabled
        # Helm installs a chart's crds/ once and never upgrades them: we apply the pinned release's CRDs ourselves
        # (an update on every version bump) and tell Helm to skip its copy. A dependency on a ConfigFile waits for
        # every object in it (the provider's documented ordering across ConfigFiles).
        crds = k8s.yaml.v2.ConfigFile(
            f"{name}-ingress-crds",
            k8s.yaml.v2.ConfigFileArgs(file=INGRESS_CRDS),
            opts=pulumi.ResourceOptions(parent=self),
        )
        issuer = (
            CertificateIssuer(
                f"{name}-tls",
                CertificateIssuerArgs(settings=settings.tls, ingress_class=INGRESS_CLASS),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if tls
            else None
        )
        # With enableCertManager the controller watches cert-manager's Certificates: it starts after cert-manager.
        release = k8s.helm.v3.Release(
            f"{name}-ingress",
            k8s.helm.v3.ReleaseArgs(
                name="nginx-ingress",
                chart=INGRESS_CHART,
                version=INGRESS_CHART_VERSION,
                namespace=release_namespace(f"{name}-ingress", CONTROLLER_NAMESPACE, self),
                skip_crds=True,
                values=_controller_values(settings, platform.vpc_cidr),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[crds, *([issuer.release] if issuer else [])]),
        )
        # Custom resources wait for their CRDs and for the controller that reads them.
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[crds, release])
        status = k8s.core.v1.Service(
            f"{name}-nginx-status",
            k8s.core.v1.ServiceInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name="nginx-status", namespace=CONTROLLER_NAMESPACE),
                spec=k8s.core.v1.ServiceSpecArgs(
                    selector=CONTROLLER_LABELS,
                    ports=[k8s.core.v1.ServicePortArgs(name="status", port=STATUS_PORT, target_port=STATUS_PORT)],
                ),
            ),
            opts=after_release,
        )
        internal_only = f"{name}-internal-only"
        policy = k8s.apiextensions.CustomResource(
            internal_only,
            api_version="k8s.nginx.org/v1",
            kind="Policy",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=internal_only, namespace=platform.namespace),
            spec={"accessControl": {"allow": [platform.vpc_cidr]}},
            opts=after_release,
        )
        service = pulumi.Output.from_input(args.backend.names).apply(_one_service)
        k8s.apiextensions.CustomResource(
            f"{name}-virtual-server",
            api_version="k8s.nginx.org/v1",
            kind="VirtualServer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=platform.namespace),
            spec={
                "host": platform.host,
                "ingressClassName": INGRESS_CLASS,
                **({"tls": _tls(issuer.name)} if issuer else {}),
                "upstreams": [
                    _api_upstream(settings, service, args.backend.port),
                    _websocket_upstream(settings, service, args.backend.port),
                ],
                "routes": [
                    {"path": "/", "action": {"pass": "api"}},
                    {"path": "/ws/", "action": {"pass": "ws"}},
                    {
                        "path": "/metrics",
                        "policies": [{"name": internal_only}],
                        "action": {"pass": "api"},
                    },
                ],
            },
            opts=pulumi.ResourceOptions.merge(
                after_release, pulumi.ResourceOptions(depends_on=[policy, *([issuer] if issuer else [])])
            ),
        )
        self.url = pulumi.Output.from_input(f"{'https' if tls else 'http'}://{platform.host}")
        self.status_url = pulumi.Output.concat(
            "http://",
            cast(pulumi.Output[str], status.metadata.name),
            f".{CONTROLLER_NAMESPACE}.svc.cluster.local:{STATUS_PORT}/stub_status",
        )
        self.register_outputs({"url": self.url, "status_url": self.status_url})


def _one_service(names: Sequence[str]) -> str:
    if len(names) != 1:
        raise ValueError(f"the eks balancer routes to exactly one backend Service, got {list(names)}")
    return names[0]


def _tls(cluster_issuer: str) -> dict[str, object]:
    """The VirtualServer's `tls`: the controller asks cert-manager for a certificate of the host into
    `TLS_SECRET` and serves it. Until the first one is issued it serves a temporary self-signed one
    (`issue-temp-cert`): the redirect also sends Let's Encrypt's HTTP-01 request to HTTPS, which it follows
    without checking the certificate, and with no certificate at all the handshake, and so the challenge,
    would fail. `/ws/` needs nothing more: `wss://` is a WebSocket over this same TLS server."""
    return {
        "secret": TLS_SECRET,
        "redirect": HTTPS_REDIRECT,
        "cert-manager": {"cluster-issuer": cluster_issuer, "issue-temp-cert": True},
    }


def _controller_values(settings: BalancerConfig, vpc_cidr: str) -> dict[str, object]:
    """The chart's values. The NLB comes from EKS's built-in service controller (no AWS Load Balancer
    Controller needed): instance targets with `externalTrafficPolicy: Local` keep the client's own address,
    which ip_hash and the internal-only policy depend on, and skip a second hop between nodes."""
    return {
        "controller": {
            "replicaCount": CONTROLLER_REPLICAS,
            "selectorLabels": CONTROLLER_LABELS,
            "enableCustomResources": True,
            # The controller turns a VirtualServer's `tls.cert-manager` into a Certificate and routes
            # cert-manager's HTTP-01 solver Ingress into that VirtualServer.
            "enableCertManager": settings.tls.enabled,
            "ingressClass": {"name": INGRESS_CLASS, "create": True},
            "config": {
                "entries": {
                    "worker-connections": str(settings.worker_connections),
                    # A proxied WebSocket holds two descriptors, plus files and logs: allow twice as many.
                    "worker-rlimit-nofile": str(2 * settings.worker_connections),
                    "server-tokens": "False",
                }
            },
            "service": {
                "type": "LoadBalancer",
                "externalTrafficPolicy": "Local",
                "annotations": {
                    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
                },
            },
            # stub_status on :8080, for addresses in the VPC only: nodes, and every pod (the VPC CNI gives pods
            # VPC addresses), Prometheus's included. Clients come through the NLB with their own address, outside it.
            "nginxStatus": {"enable": True, "port": STATUS_PORT, "allowCidrs": vpc_cidr},
            "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        },
        "prometheus": {"create": True, "port": METRICS_PORT},
    }


def _upstream(
    name: str, lb_method: str, settings: BalancerConfig, service: pulumi.Output[str], port: int, **fields: object
) -> dict[str, object]:
    """An upstream over the backend Service: its algorithm, passive health checks (a pod failing `max-fails`
    times is left out for `fail-timeout`; the readiness probe removes it for good) and connect timeout."""
    return {
        "name": name,
        "service": service,
        "port": port,
        "lb-method": LB_METHODS[lb_method],
        "max-fails": settings.max_fails,
        "fail-timeout": settings.fail_timeout,
        "connect-timeout": settings.connect_timeout,
        **{key.replace("_", "-"): value for key, value in fields.items()},
    }


def _api_upstream(settings: BalancerConfig, service: pulumi.Output[str], port: int) -> dict[str, object]:
    """Requests: pooled upstream connections, the request timeouts, failover to the next pod."""
    return _upstream(
        "api",
        settings.algorithm,
        settings,
        service,
        port,
        keepalive=settings.keepalive,
        read_timeout=settings.read_timeout,
        send_timeout=settings.send_timeout,
        client_max_body_size=settings.client_max_body_size,
        next_upstream=NEXT_UPSTREAM,
        next_upstream_timeout=settings.read_timeout,
    )


def _websocket_upstream(settings: BalancerConfig, service: pulumi.Output[str], port: int) -> dict[str, object]:
    """Sticky by client address, long idle timeouts, frames passed on unbuffered. The Upgrade handshake
    needs no setting: the VirtualServer forwards it by itself."""
    return _upstream(
        "ws",
        settings.websocket_affinity,
        settings,
        service,
        port,
        read_timeout=settings.websocket_timeout,
        send_timeout=settings.websocket_timeout,
        buffering=False,
    )

"""Prod TLS: cert-manager, a Let's Encrypt ClusterIssuer solving HTTP-01 through the F5 controller, the
VirtualServer's certificate and HTTP-to-HTTPS redirect, https/wss outputs; and the config TLS refuses."""

from __future__ import annotations

from typing import Any

import pytest

from components import node_capacity
from components.config import ConfigError
from tools.program import ProgramRun, RegisteredResource
from tests.support.prod_renders import PLAIN_HTTP
from tests.support.renders import run_program

CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
VIRTUAL_SERVER = "kubernetes:k8s.nginx.org/v1:VirtualServer"
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
TLS_ON = ["cluster.host=api.brain.test", "balancer.tls.email=ops@brain.test"]
"""TLS with our host and address: the TLS-on config the tests below share a run of (PLAIN_HTTP: TLS off)."""


def _spec(run: ProgramRun, type_: str) -> dict[str, Any]:
    (resource,) = run.of_type(type_)
    return resource.inputs["spec"]


def test_cert_manager_release_manages_and_upgrades_its_own_crds() -> None:
    run = run_program("prod")
    release = run.named("brain-tls-cert-manager").inputs
    assert (release["chart"], release["version"]) == ("cert-manager", "v1.21.1")
    assert release["repositoryOpts"] == {"repo": "https://charts.jetstack.io"}
    assert release["values"]["crds"] == {"enabled": True, "keep": True}, (
        "the CRDs must come from the chart's templates (upgraded with it) and outlive an uninstall"
    )
    assert release.get("skipCrds") is not True, "skipCrds would drop nothing here, but says the opposite of the intent"


def test_the_capacity_check_budgets_every_cert_manager_pod_at_its_rendered_requests() -> None:
    def pods(tls: bool) -> list[node_capacity.PodGroup]:
        backend = node_capacity.Requests(500, 512)
        return node_capacity.pods_at_hpa_maximum(backend, 10, monitoring=False, in_cluster_data=False, tls=tls)

    assert [group for group in pods(True) if group not in pods(False)] == [node_capacity.CERT_MANAGER]
    values = run_program("prod").named("brain-tls-cert-manager").inputs["values"]
    budget = node_capacity.CERT_MANAGER.requests
    expected = {"cpu": f"{budget.cpu_millis}m", "memory": f"{budget.memory_mib}Mi"}
    for part in (values, values["cainjector"], values["webhook"]):
        assert part["resources"] == {"requests": expected}
    assert 2 + values["webhook"]["replicaCount"] == node_capacity.CERT_MANAGER.replicas, "controller, cainjector, webhooks"


def test_cluster_issuer_registers_with_lets_encrypt_and_solves_through_the_controller() -> None:
    run = run_program("prod", TLS_ON)
    (issuer,) = run.of_type(CLUSTER_ISSUER)
    acme = issuer.inputs["spec"]["acme"]
    assert (acme["server"], acme["email"]) == (LETS_ENCRYPT, "ops@brain.test")
    controller = run.named("brain-ingress").inputs["values"]["controller"]
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": controller["ingressClass"]["name"]}}}], (
        "the solver Ingress must be of the class our controller serves"
    )
    assert controller["enableCertManager"] is True, "without it the controller ignores tls.cert-manager and the solver"
    assert run.named("brain-tls-cert-manager").urn in issuer.depends_on, "the ClusterIssuer needs cert-manager's CRDs"


def test_staging_issuer_uses_the_staging_directory() -> None:
    run = run_program("prod", ["balancer.tls.issuer=letsencrypt_staging"])
    (issuer,) = run.of_type(CLUSTER_ISSUER)
    assert issuer.inputs["spec"]["acme"]["server"] == LETS_ENCRYPT_STAGING
    assert _spec(run, VIRTUAL_SERVER)["tls"]["cert-manager"]["cluster-issuer"] == issuer.inputs["metadata"]["name"]


def test_virtual_server_serves_the_issued_certificate_and_redirects_http() -> None:
    run = run_program("prod")
    (issuer,) = run.of_type(CLUSTER_ISSUER)
    tls = _spec(run, VIRTUAL_SERVER)["tls"]
    assert tls["cert-manager"] == {"cluster-issuer": issuer.inputs["metadata"]["name"], "issue-temp-cert": True}
    assert tls["secret"], "cert-manager needs a Secret name to store the certificate in"
    assert tls["redirect"] == {"enable": True, "code": 308, "basedOn": "scheme"}
    (virtual_server,) = run.of_type(VIRTUAL_SERVER)
    assert issuer.urn in virtual_server.depends_on, f"{virtual_server.urn} names the issuer: it must exist first"


def test_controller_starts_after_cert_manager_whose_certificates_it_watches() -> None:
    run = run_program("prod")
    assert run.named("brain-tls-cert-manager").urn in run.named("brain-ingress").depends_on


def test_websockets_keep_their_route_and_upstream_under_tls() -> None:
    with_tls, without = run_program("prod"), run_program("prod", PLAIN_HTTP)
    routes = {route["path"]: route for route in _spec(with_tls, VIRTUAL_SERVER)["routes"]}
    assert routes["/ws/"]["action"] == {"pass": "ws"}
    assert _spec(with_tls, VIRTUAL_SERVER)["upstreams"] == _spec(without, VIRTUAL_SERVER)["upstreams"], (
        "TLS ends at the controller: the upstreams (WebSocket stickiness, timeouts) must not change"
    )


def test_outputs_are_https_and_wss_with_tls_and_plain_without() -> None:
    outputs = run_program("prod", TLS_ON).outputs
    assert (outputs["balancer_url"], outputs["websocket_url"]) == ("https://api.brain.test", "wss://api.brain.test/ws/")
    plain = run_program("prod", PLAIN_HTTP).outputs
    assert (plain["balancer_url"], plain["websocket_url"]) == ("http://brain.internal", "ws://brain.internal/ws/")


def test_tls_off_creates_no_certificate_machinery() -> None:
    run = run_program("prod", PLAIN_HTTP)
    assert not run.of_type(CLUSTER_ISSUER)
    assert "brain-tls-cert-manager" not in {resource.name for resource in run.resources}
    assert "tls" not in _spec(run, VIRTUAL_SERVER)
    assert run.named("brain-ingress").inputs["values"]["controller"]["enableCertManager"] is False


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "allowed"),
    [
        ("prod", ["balancer.tls.email="], "brain:balancer.tls.email is required", "ops@"),
        ("prod", ["balancer.tls.email=ops"], "brain:balancer.tls.email = 'ops'", "e-mail address"),
        # Refused by cluster.host's own type already (an RFC 1123 name, no wildcard, no address), with or without TLS
        ("prod", ["cluster.host="], "brain:cluster.host = ''", "DNS host name"),
        ("prod", ["cluster.host='*.brain.test'"], "brain:cluster.host = '*.brain.test'", "no wildcard"),
        ("prod", ["cluster.host=10.0.0.1"], "brain:cluster.host = '10.0.0.1'", "IP address"),
        ("prod", ["cluster.host=brain.internal9"], "brain:cluster.host 'brain.internal9'", "DNS name"),
        ("prod", ["balancer.tls.issuer=acm"], "brain:balancer.tls.issuer", "'letsencrypt'"),
        ("dev", ["balancer.tls.enabled=false"], "brain:balancer.tls", "target eks only"),
    ],
    ids=["no-email", "bad-email", "no-host", "wildcard-host", "address-host", "digit-tld-host", "unknown-issuer",
         "docker"],
)
def test_bad_tls_config_is_refused_naming_the_key_before_any_resource(
    stack: str, overrides: list[str], key: str, allowed: str
) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program(stack, overrides, registered=registered)
    message = str(raised.value)
    assert key in message and allowed in message, f"expected {key!r} and {allowed!r} in:\n{message}"
    assert registered == [], f"expected no resource before the config error, got {[r.name for r in registered]}"


def test_tls_off_needs_neither_host_nor_email() -> None:
    assert run_program("prod", PLAIN_HTTP).outputs["balancer_url"] == "http://brain.internal"

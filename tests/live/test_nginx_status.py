"""/nginx_status and /metrics: for loopback and the stack's own network, 403 for anyone else.

Every loopback address is internal, so the outside caller is a real one: a network namespace joined to the
host by a veth pair, with a TEST-NET-2 address (198.51.100.0/24, RFC 5737) that no allow list admits unless the
test names its /30 as the stack's network. Creating the namespace needs CAP_SYS_ADMIN (`ip netns add` mounts
/run/netns) and CAP_NET_ADMIN (the veth pair): without them the tests skip locally and fail under CI.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from components.config import BalancerConfig
from tests.support.topology import StartBalancer
from tests.support.processes import require_binary, unavailable

pytestmark = pytest.mark.live

COMMAND_TIMEOUT_SECONDS = 20
NAMESPACE_REMEDY = (
    "the CI job's container must grant CAP_SYS_ADMIN and CAP_NET_ADMIN without an AppArmor mount ban "
    "(.github/workflows/test.yml: container options)"
)


@dataclass(frozen=True)
class OutsideNetwork:
    """A network namespace whose only address is `client`, reaching the host at `host` over a /30."""

    namespace: str
    host: str
    client: str

    @property
    def cidr(self) -> str:
        """The /30 both ends share: naming it as the stack's network admits the client."""
        return str(ipaddress.ip_interface(f"{self.host}/30").network)

    def get_status(self, url: str) -> int:
        """The HTTP status of GET `url`, fetched from inside the namespace."""
        fetch = (
            "import sys, urllib.request, urllib.error\n"
            "try:\n    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)\n"
            "except urllib.error.HTTPError as error:\n    print(error.code)\n"
        )
        completed = _ip("netns", "exec", self.namespace, sys.executable, "-c", fetch, url)
        return int(completed.stdout.strip())


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", *args], capture_output=True, text=True, check=True, timeout=COMMAND_TIMEOUT_SECONDS
    )


@contextlib.contextmanager
def outside_network_namespace() -> Iterator[OutsideNetwork]:
    """The namespace and its veth pair, removed on exit; skips (fails under CI) where namespaces are refused."""
    require_binary("ip")
    # One /30 per test process, so two suites running side by side do not claim the same addresses.
    base = 4 * (os.getpid() % 64)
    name = f"brainlive{os.getpid()}"
    host_link, client_link = f"bh{os.getpid()}", f"bc{os.getpid()}"
    network = OutsideNetwork(name, f"198.51.100.{base + 1}", f"198.51.100.{base + 2}")
    try:
        _ip("netns", "add", name)
    except subprocess.CalledProcessError as error:
        unavailable(f"cannot create a network namespace here: {error.stderr.strip()}", NAMESPACE_REMEDY)
    try:
        _ip("link", "add", host_link, "type", "veth", "peer", "name", client_link)
        _ip("link", "set", client_link, "netns", name)
        _ip("addr", "add", f"{network.host}/30", "dev", host_link)
        _ip("link", "set", host_link, "up")
        _ip("-n", name, "addr", "add", f"{network.client}/30", "dev", client_link)
        _ip("-n", name, "link", "set", client_link, "up")
        yield network
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)


@pytest.fixture
def outside_network() -> Iterator[OutsideNetwork]:
    with outside_network_namespace() as network:
        yield network


def test_nginx_status_answers_internal_callers(start_balancer: StartBalancer):
    balancer = start_balancer(BalancerConfig())
    response = httpx.get(balancer.url("/nginx_status"), timeout=10)
    assert response.status_code == 200, f"expected 200 from loopback, got {response.status_code}: {response.text}"
    assert "Active connections" in response.text


def test_nginx_status_refuses_outside_callers(start_balancer: StartBalancer, outside_network: OutsideNetwork):
    balancer = start_balancer(BalancerConfig(), listen_address="0.0.0.0", internal_networks=("172.28.89.0/24",))
    outside_url = f"http://{outside_network.host}:{balancer.port}"
    assert outside_network.get_status(f"{outside_url}/health/live") == 200, "the outside caller cannot reach nginx"
    assert outside_network.get_status(f"{outside_url}/nginx_status") == 403
    assert outside_network.get_status(f"{outside_url}/metrics") == 403


def test_the_stack_network_is_an_internal_caller(start_balancer: StartBalancer, outside_network: OutsideNetwork):
    """The same caller, once its network is the stack's own (as a container on the dev network is)."""
    balancer = start_balancer(BalancerConfig(), listen_address="0.0.0.0", internal_networks=(outside_network.cidr,))
    outside_url = f"http://{outside_network.host}:{balancer.port}"
    assert outside_network.get_status(f"{outside_url}/nginx_status") == 200
    assert outside_network.get_status(f"{outside_url}/metrics") == 200


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_refused_namespace_fails_under_ci_and_skips_elsewhere(
    ci: str, outcome: type[BaseException], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """What an unprivileged container sees: `ip netns add` refused (an `ip` that answers as it does there)."""
    refusing_ip = tmp_path / "ip"
    refusing_ip.write_text(
        "#!/bin/sh\necho 'mount --make-shared /run/netns failed: Operation not permitted' >&2\nexit 1\n"
    )
    refusing_ip.chmod(refusing_ip.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome) as raised, outside_network_namespace():
        pass
    assert "Operation not permitted" in str(raised.value)

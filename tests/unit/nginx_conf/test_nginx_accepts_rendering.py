"""The real nginx binary (`nginx -t`) accepts every rendering: each algorithm and affinity, random valid configs,
and the Docker image's rendering as far as Debian's older nginx can read it."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path
from collections.abc import Callable
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from components.config import Affinity, Algorithm, BalancerConfig
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from tests.support.nginx import docker_conf_for_this_machine, nginx_binary, nginx_test, nginx_version
from tools.program import reveal
from tests.support.renders import run_program

ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
AFFINITIES: tuple[str, ...] = get_args(Affinity)


def loopback_servers(count: int) -> list[UpstreamServer]:
    """Replicas on 127.0.0.1..N (nginx -t resolves upstream addresses but never connects)."""
    return [UpstreamServer(f"127.0.0.{number}", 8000 + number) for number in range(1, count + 1)]


def assert_nginx_accepts(balancer: BalancerConfig, servers: list[UpstreamServer], directory: Path) -> None:
    """Renders for the installed nginx, runs `nginx -t`, and wants it clean: no warning either, except that
    more worker_connections than this machine's descriptor limit are reported (as they should be)."""
    # With a stack network in the allow list, as the dev stack renders it.
    runtime = replace(NginxRuntime.for_directory(directory, nginx_version()), internal_networks=("172.28.89.0/24",))
    report = nginx_test(render_nginx_conf(nginx_settings(balancer), servers, runtime), directory)
    complaints = [line for line in report.splitlines() if "[warn]" in line or "[emerg]" in line]
    if runtime.max_open_files is not None and balancer.worker_connections > runtime.max_open_files:
        complaints = [line for line in complaints if "worker_connections exceed open file resource limit" not in line]
    assert not complaints, f"nginx -t accepted with complaints:\n{report}"


@pytest.mark.parametrize("keepalive", [0, 32])
@pytest.mark.parametrize("affinity", AFFINITIES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_nginx_accepts_every_algorithm_and_affinity(algorithm: str, affinity: str, keepalive: int, tmp_path: Path):
    weights = [3, 2, 1] if algorithm == "weighted" else []
    balancer = BalancerConfig.model_validate(
        {"algorithm": algorithm, "weights": weights, "websocket_affinity": affinity, "keepalive": keepalive}
    )
    assert_nginx_accepts(balancer, loopback_servers(3), tmp_path)


def test_nginx_accepts_a_single_replica(tmp_path: Path):
    assert_nginx_accepts(BalancerConfig(), loopback_servers(1), tmp_path)


# Times and sizes in the shapes people type (compound times like 1m30s, units in any order, bare numbers),
# each kept only if the stack config accepts it for that key: whatever the config lets through, nginx must take.
TIME_UNITS = ("ms", "s", "m", "h", "d")
typed_times = st.one_of(
    st.integers(0, 100_000).map(str),
    st.lists(st.tuples(st.integers(0, 100_000), st.sampled_from(TIME_UNITS)), min_size=1, max_size=3).map(
        lambda parts: "".join(f"{amount}{unit}" for amount, unit in parts)
    ),
)
typed_sizes = st.tuples(st.integers(0, 100_000), st.sampled_from(("", "k", "K", "m", "M", "g", "G"))).map(
    lambda size: f"{size[0]}{size[1]}"
)


def accepted_for(key: str) -> Callable[[str], bool]:
    """Whether the stack config takes `value` for `balancer.<key>`."""

    def accepts(value: str) -> bool:
        try:
            BalancerConfig.model_validate({key: value})
        except ValidationError:
            return False
        return True

    return accepts


def config_time(key: str) -> st.SearchStrategy[str]:
    return typed_times.filter(accepted_for(key))


@st.composite
def balancer_and_server_count(draw: st.DrawFn) -> tuple[BalancerConfig, int]:
    count = draw(st.integers(1, 8))
    algorithm = draw(st.sampled_from(ALGORITHMS))
    weights = draw(st.lists(st.integers(1, 1000), min_size=count, max_size=count)) if algorithm == "weighted" else []
    balancer = BalancerConfig.model_validate(
        {
            "algorithm": algorithm,
            "weights": weights,
            "websocket_affinity": draw(st.sampled_from(AFFINITIES)),
            "port": draw(st.integers(1, 65535)),
            "max_fails": draw(st.integers(0, 100)),
            "fail_timeout": draw(config_time("fail_timeout")),
            "keepalive": draw(st.integers(0, 10_000)),
            "keepalive_timeout": draw(config_time("keepalive_timeout")),
            "connect_timeout": draw(config_time("connect_timeout")),
            "read_timeout": draw(config_time("read_timeout")),
            "send_timeout": draw(config_time("send_timeout")),
            "websocket_timeout": draw(config_time("websocket_timeout")),
            "client_max_body_size": draw(typed_sizes.filter(accepted_for("client_max_body_size"))),
            "worker_connections": draw(st.integers(512, 32768)),
        }
    )
    return balancer, count


@settings(max_examples=40, deadline=None)
@given(balancer_and_server_count())
def test_nginx_accepts_any_valid_balancer_config(case: tuple[BalancerConfig, int]):
    nginx_binary()  # skip (or fail in CI) before hypothesis runs examples without nginx
    balancer, count = case
    with tempfile.TemporaryDirectory(prefix="brain-nginx-t-") as directory:
        assert_nginx_accepts(balancer, loopback_servers(count), Path(directory))


def test_docker_rendering_passes_nginx_t_once_mapped_to_this_machine(tmp_path: Path):
    """The image's nginx is newer than Debian's: check all of its rendering that this nginx can read.

    The config is the one the dev stack uploads into the nginx container (image version, Docker DNS, replica
    names); `docker_conf_for_this_machine` maps only the differences of this machine.
    """
    run = run_program("dev", ["balancer.algorithm=weighted", "balancer.weights=[3,2,1]",
                              "balancer.websocket_affinity=consistent_hash"])
    (upload,) = reveal(run.named("brain-nginx").inputs["uploads"])
    docker_conf: str = upload["content"]
    names = [f"backend-{number}" for number in (1, 2, 3)]
    server_lines = re.findall(r"^\s*server \S+ .*;$", docker_conf, flags=re.MULTILINE)
    assert [line.split()[1] for line in server_lines] == [f"{name}:8000" for name in names] * 2, server_lines
    assert all(line.endswith(" resolve;") for line in server_lines), server_lines

    nginx_test(docker_conf_for_this_machine(docker_conf), tmp_path)

"""The config's list of published host ports (which the unique-port rule checks) is exactly what the dev stack
publishes: a container that publishes a port the list lacks would escape the rule."""

from __future__ import annotations

import pytest

from components.config import parse_stack_config, published_host_ports, raw_stack_config
from tools.program import reveal, stack_config
from tests.support.renders import run_program

CONTAINER = "docker:index/container:Container"


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["monitoring.enabled=true"],
        ["data.publish_ports=true"],
        ["monitoring.enabled=true", "data.publish_ports=true", "balancer.port=8080"],
    ],
    ids=["default", "monitoring", "data-ports", "all"],
)
def test_every_published_host_port_is_in_the_configs_list(overrides: list[str]) -> None:
    run = run_program("dev", overrides)
    published = sorted(
        port["external"]
        for container in run.of_type(CONTAINER)
        for port in reveal(container.inputs).get("ports") or []
        if port.get("external")
    )
    config = parse_stack_config(raw_stack_config(stack_config("dev", overrides)))
    listed = sorted(port for _, port in published_host_ports(config))
    assert published == listed, f"the dev stack publishes {published}, the config's list says {listed}"

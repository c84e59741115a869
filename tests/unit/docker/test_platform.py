"""Dev platform: the private network, with the subnet the balancer's allow list names."""

from __future__ import annotations

from tests.support.renders import run_program

NETWORK = "docker:index/network:Network"
CONTAINER = "docker:index/container:Container"


def test_the_network_has_the_configured_subnet_and_can_be_replaced_under_its_fixed_name() -> None:
    run = run_program("dev", ["network.subnet=10.77.0.0/16", "monitoring.enabled=true"])
    (network,) = run.of_type(NETWORK)
    assert network.inputs["ipamConfigs"] == [{"subnet": "10.77.0.0/16"}], network.inputs
    assert network.delete_before_replace, "a new subnet must delete the old network (same name) before creating it"
    containers = run.of_type(CONTAINER)
    assert containers, "the dev stack has no containers"
    for container in containers:
        # The engine deletes a delete-before-replace resource's dependents first only when they take an input from it.
        assert network.urn in container.input_dependencies, f"{container.name} does not take its network from {network.name}"

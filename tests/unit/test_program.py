"""Both stacks' programs: the component conventions every target follows."""

from __future__ import annotations

import pytest

from tools.program import run_program


@pytest.mark.parametrize(("stack", "target"), [("dev", "docker"), ("prod", "eks")])
def test_components_parent_their_children(stack: str, target: str) -> None:
    run = run_program(stack)
    components = {resource.urn for resource in run.resources if resource.type.startswith(f"brain:{target}:")}
    top_level = {
        resource.urn
        for resource in run.resources
        if resource.urn in components and (resource.parent or "").endswith(f"pulumi:pulumi:Stack::brain-{stack}")
    }
    assert len(top_level) == 5, (
        f"expected Platform, DataTier, BackendReplicaSet, Balancer and Monitoring, got {top_level}"
    )
    for resource in run.resources:
        if resource.urn not in top_level:  # a resource, or a component inside one (e.g. the balancer's issuer)
            assert resource.parent in components, f"{resource.urn} is not parented to a component"

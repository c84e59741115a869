"""Both stacks' programs: the component conventions every target follows."""

from __future__ import annotations

import pytest

from tools.program import run_program


@pytest.mark.parametrize(("stack", "target"), [("dev", "docker"), ("prod", "eks")])
def test_components_parent_their_children(stack: str, target: str) -> None:
    run = run_program(stack)
    components = {resource.urn for resource in run.resources if resource.type.startswith(f"brain:{target}:")}
    assert len(components) == 5, (
        f"expected Platform, DataTier, BackendReplicaSet, Balancer and Monitoring, got {components}"
    )
    for resource in run.resources:
        if resource.type.startswith("brain:"):
            assert resource.parent is not None and resource.parent.endswith(f"pulumi:pulumi:Stack::brain-{stack}")
        else:
            assert resource.parent in components, f"{resource.urn} is not parented to a component"

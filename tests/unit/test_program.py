"""Both stacks' programs: the component conventions every target follows."""

from __future__ import annotations

import pytest

from tests.support.renders import run_program


SHARED = {"Platform", "DataTier", "BackendReplicaSet", "Balancer", "Monitoring"}


@pytest.mark.parametrize(
    ("stack", "target", "own"), [("dev", "docker", set()), ("prod", "eks", {"NetworkIsolation"})]
)
def test_components_parent_their_children(stack: str, target: str, own: set[str]) -> None:
    run = run_program(stack)
    components = {resource.urn for resource in run.resources if resource.type.startswith(f"brain:{target}:")}
    top_level = {
        resource.urn
        for resource in run.resources
        if resource.urn in components and (resource.parent or "").endswith(f"pulumi:pulumi:Stack::brain-{stack}")
    }
    kinds = {urn.rsplit("$", 1)[1].split("::")[0].removeprefix(f"brain:{target}:") for urn in top_level}
    assert kinds == SHARED | own, f"expected top-level {sorted(SHARED | own)}, got {sorted(kinds)}"
    for resource in run.resources:
        if resource.urn not in top_level:  # a resource, or a component inside one (e.g. the balancer's issuer)
            assert resource.parent in components, f"{resource.urn} is not parented to a component"

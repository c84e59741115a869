"""Both stacks' programs: the component conventions every target follows."""

from __future__ import annotations

import pytest

from tools.program import run_program


SHARED = {"Platform", "DataTier", "BackendReplicaSet", "Balancer"}


@pytest.mark.parametrize(
    ("stack", "target", "own"), [("dev", "docker", set()), ("prod", "eks", {"NetworkIsolation"})]
)
def test_components_parent_their_children(stack: str, target: str, own: set[str]) -> None:
    run = run_program(stack)
    components = {resource.urn for resource in run.resources if resource.type.startswith(f"brain:{target}:")}
    kinds = {urn.rsplit("$", 1)[1].split("::")[0].removeprefix(f"brain:{target}:") for urn in components}
    assert kinds == SHARED | own, f"expected {sorted(SHARED | own)}, got {sorted(kinds)}"
    for resource in run.resources:
        if resource.type.startswith("brain:"):
            assert resource.parent is not None and resource.parent.endswith(f"pulumi:pulumi:Stack::brain-{stack}")
        else:
            assert resource.parent in components, f"{resource.urn} is not parented to a component"

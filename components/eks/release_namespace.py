"""Namespaces of the Helm releases that install into their own: Pulumi resources, so `pulumi destroy` removes them."""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes as k8s


def release_namespace(name: str, namespace: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """Namespace `namespace` as a resource of its own; its name is the release's `namespace` input.

    A release's `create_namespace` has Helm create the namespace on install, and Helm's uninstall never deletes
    it, so `pulumi destroy` would leave it behind. Made here, the release depends on it (through its name), so
    the namespace exists before the install and `pulumi destroy` deletes it after the release.
    """
    created = k8s.core.v1.Namespace(
        f"{name}-namespace",
        k8s.core.v1.NamespaceInitArgs(metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return cast(pulumi.Output[str], created.metadata.name)

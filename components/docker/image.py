"""Images for the dev target: pulled once and kept locally, so a `pulumi destroy` leaves Docker's cache alone."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker


def pulled_image(resource_name: str, image: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The ID of `image` (a pinned tag) as a container's `image` input: a new digest replaces the containers."""
    remote = docker.RemoteImage(
        resource_name,
        docker.RemoteImageArgs(name=image, keep_locally=True),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return remote.image_id

"""How every pod of ours runs in the app namespace: within the `restricted` Pod Security Standard (which the
namespace enforces), with a read-only root filesystem, and without a service-account token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi_kubernetes as k8s

SCRATCH_SIZE = "64Mi"
"""Each writable scratch directory's bound: sockets, lock files and temporary files, never data."""


@dataclass(frozen=True)
class RunAs:
    """The image's own unprivileged user and group. Numeric, because `runAsNonRoot` cannot check a user name,
    and explicit where the image starts as root (and steps down in its entrypoint, which needs root)."""

    user: int
    group: int


def pod_security_context(run_as: RunAs) -> k8s.core.v1.PodSecurityContextArgs:
    """The process's user, and its volumes' group: `fsGroup` makes a data volume writable for it (once, while
    the volume's root does not match: `OnRootMismatch` spares a full walk of a large volume at every start)."""
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=run_as.user,
        run_as_group=run_as.group,
        fs_group=run_as.group,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context() -> k8s.core.v1.SecurityContextArgs:
    """No privilege of any kind, and nothing written outside the mounted volumes."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


def scratch_volumes(
    paths: Mapping[str, str],
) -> tuple[list[k8s.core.v1.VolumeArgs], list[k8s.core.v1.VolumeMountArgs]]:
    """An `emptyDir` for each directory (volume name -> path) a process must write on a read-only root
    filesystem; returns the pod's volumes and the container's mounts."""
    volumes = [
        k8s.core.v1.VolumeArgs(name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=SCRATCH_SIZE))
        for name in paths
    ]
    mounts = [k8s.core.v1.VolumeMountArgs(name=name, mount_path=path) for name, path in paths.items()]
    return volumes, mounts

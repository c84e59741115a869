"""The `restricted` Pod Security Standard as the API server's admission enforces it, and our own hardening
rules besides, checked on a pod spec (camelCase, as rendered).

The restricted rules follow https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline and
restricted controls, policy version `latest`); each problem names the container and the field.
"""

from __future__ import annotations

from typing import Any

RESTRICTED_VOLUME_TYPES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where the ServiceAccount admission plugin mounts the token (`DefaultAPITokenMountPath`); it mounts none
into a container that already has a mount there."""


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod.get("containers", []), *pod.get("ephemeralContainers", [])]


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What in `pod` (a PodSpec) the `restricted` profile refuses; empty when the API server admits it."""
    problems: list[str] = []
    pod_context = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"pod: {field} is set")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']}: type {sorted(kinds)} is not allowed")
    if pod_context.get("runAsUser") == 0:
        problems.append("pod: runAsUser is 0")
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in ALLOWED_SECCOMP:
        problems.append(f"pod: seccompProfile {pod_seccomp}")
    for container in _containers(pod):
        name, context = container["name"], container.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{name}: capabilities must drop ALL")
        if not set(capabilities.get("add", [])) <= ALLOWED_ADDED_CAPABILITIES:
            problems.append(f"{name}: adds capabilities {capabilities['add']}")
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot must be true (pod or container)")
        if context.get("runAsUser") == 0:
            problems.append(f"{name}: runAsUser is 0")
        seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ALLOWED_SECCOMP:
            problems.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost (pod or container)")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{name}: hostPort")
    return problems


def hardening_violations(pod: dict[str, Any]) -> list[str]:
    """Our rules beyond the profile: no service-account token, a read-only root filesystem, requests and
    limits on every container, and a liveness probe on every long-running container."""
    problems = []
    for container in _containers(pod):
        name = container["name"]
        masked = any(mount["mountPath"] == SERVICE_ACCOUNT_TOKEN_PATH for mount in container.get("volumeMounts", []))
        if pod.get("automountServiceAccountToken") is not False and not masked:
            problems.append(f"{name}: gets the service-account token (automountServiceAccountToken)")
        if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem must be true")
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            if set(resources.get(kind) or {}) != {"cpu", "memory"}:
                problems.append(f"{name}: resources.{kind} must set cpu and memory, got {resources.get(kind)}")
    for container in pod.get("containers", []):
        if "livenessProbe" not in container:
            problems.append(f"{container['name']}: no livenessProbe")
    return problems

"""Dev backend replicas: identity and connections in the env, readiness checks, one-at-a-time replacement."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from backend.settings import GRACEFUL_SHUTDOWN_SECONDS
from components.docker.backend import _source_digest
from nginx_conf import reset_failures_script
from tests.support.renders import run_program
from tools.program import ROOT, is_secret, reveal

CONTAINER = "docker:index/container:Container"


def _env(run, name: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in reveal(run.named(name).inputs["envs"]))


def test_each_replica_knows_its_identity_and_the_data_tier() -> None:
    run = run_program("dev", ["backend.replicas=3"])
    for number in (1, 2, 3):
        env = _env(run, f"brain-backend-{number}")
        assert env["INSTANCE_ID"] == f"backend-{number}"
        assert env["INSTANCE_NUMBER"] == str(number)
        assert env["DATABASE_URL"].startswith("postgresql://brain:") and env["DATABASE_URL"].endswith("@postgres:5432/brain")
        assert env["REDIS_URL"].startswith("redis://:") and env["REDIS_URL"].endswith("@redis:6379/0")
        assert env["QDRANT_URL"] == "http://qdrant:6333"
        assert is_secret(run.named(f"brain-backend-{number}").inputs["envs"])


def test_replicas_are_health_checked_on_readiness() -> None:
    run = run_program("dev", ["backend.port=9000"])
    check = " ".join(run.named("brain-backend-1").inputs["healthcheck"]["tests"])
    assert "http://127.0.0.1:9000/health/ready" in check
    assert run.named("brain-backend-1").inputs["wait"] is True


def test_replicas_are_replaced_one_after_another() -> None:
    run = run_program("dev", ["backend.replicas=4"])
    replicas = [run.named(f"brain-backend-{number}") for number in range(1, 5)]
    for previous, replica in zip(replicas, replicas[1:]):
        assert previous.urn in replica.depends_on, f"{replica.name} must wait for {previous.name}"
        rejoin = run.named(f"{previous.name}-rejoin")
        assert rejoin.urn in replica.depends_on, f"{replica.name} must wait until nginx takes {previous.name} back"
        assert replica.delete_before_replace
    assert not any(replica.urn in replicas[0].depends_on for replica in replicas[1:])


def test_a_healthy_new_replica_makes_nginx_forget_its_failures() -> None:
    run = run_program("dev", ["backend.replicas=2"])
    for number in (1, 2):
        replica, rejoin = run.named(f"brain-backend-{number}"), run.named(f"brain-backend-{number}-rejoin")
        assert rejoin.type == "command:local:Command"
        assert rejoin.inputs["triggers"] == [f"brain-backend-{number}-id"], "it must run again for a new replica"
        assert replica.urn in rejoin.depends_on
        script = rejoin.inputs["create"]
        reset = f"docker exec brain-nginx sh -c {shlex.quote(reset_failures_script('/etc/nginx/nginx.conf'))}"
        assert script == f"if docker container inspect brain-nginx >/dev/null 2>&1; then {reset}; fi", script


def test_backend_image_is_built_with_buildkit_into_the_local_daemon_when_none_is_configured() -> None:
    run = run_program("dev", ["backend.image="])
    image = run.named("brain-image")
    # pulumi-docker-build, not RemoteImage(build=...), which fails on Docker's containerd image store.
    assert image.type == "docker-build:index:Image"
    assert image.inputs["context"] == {"location": "backend"}
    assert image.inputs["dockerfile"] == {"location": "backend/Dockerfile"}
    assert (image.inputs["load"], image.inputs["push"]) == (True, False), "loaded into the daemon, pushed nowhere"
    # Nothing else: a cache export fails on the classic image store's `docker` driver, and a fixed platform
    # would build for an architecture the daemon's containers may not run (components/docker/backend.py).
    # (buildOnPreview and network are the SDK's own defaults: build during previews, default build network.)
    assert image.inputs["buildOnPreview"] is True and image.inputs["network"] == "default", image.inputs
    assert set(image.inputs) == {"context", "dockerfile", "tags", "load", "push", "buildOnPreview", "network"}, (
        sorted(image.inputs))
    (tag,) = image.inputs["tags"]
    assert re.fullmatch(r"brain-backend:dev-[0-9a-f]{12}", tag), tag
    assert run.named("brain-backend-1").inputs["image"] == tag
    assert image.urn in run.named("brain-backend-1").input_dependencies, "the replicas must wait for the build"


def test_an_edit_to_the_backend_source_makes_a_new_tag(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "backend", tmp_path / "backend", ignore=shutil.ignore_patterns("__pycache__"))
    before = _source_digest(tmp_path / "backend")
    (tmp_path / "backend" / "app.py").write_text((tmp_path / "backend" / "app.py").read_text() + "\n# edited\n")
    assert _source_digest(tmp_path / "backend") != before, "an edit must change the tag and roll the replicas"


def test_configured_backend_image_is_pulled_not_built() -> None:
    run = run_program("dev", ["backend.image=ghcr.io/brain/brain-core:1.4.2"])
    image = run.named("brain-image")
    assert image.inputs["name"] == "ghcr.io/brain/brain-core:1.4.2"
    assert "build" not in image.inputs
    assert run.named("brain-backend-1").inputs["image"] == "sha256:mock-brain-image"


def test_resources_limit_each_replica() -> None:
    run = run_program("dev", ["backend.resources={cpu: 250m, memory: 1Gi}"])
    inputs = run.named("brain-backend-1").inputs
    assert (inputs["cpus"], inputs["memory"]) == ("0.25", 1024)


def test_replacing_a_replica_never_replaces_what_routes_to_it() -> None:
    """Replicas are replaced delete-before-create; the engine first deletes every resource with an input
    taken from the replica whose provider would replace it for the new value. So the balancer and
    Prometheus name replicas by plain names and only *wait* for them (explicit dependencies)."""
    run = run_program("dev", ["backend.replicas=3", "monitoring.enabled=true"])
    replicas = {run.named(f"brain-backend-{number}").urn for number in (1, 2, 3)}
    for name in ("brain-nginx", "brain-nginx-reload", "brain-prometheus"):
        resource = run.named(name)
        assert not replicas & set(resource.input_dependencies), f"{name} takes an input from a replica"
    for name in ("brain-nginx", "brain-prometheus"):
        assert replicas <= set(run.named(name).depends_on), f"{name} must start after every replica"


def test_first_replica_waits_for_the_data_tier_by_explicit_dependency() -> None:
    run = run_program("dev")
    first = run.named("brain-backend-1")
    stores = {run.named(name).urn for name in ("brain-postgres", "brain-redis", "brain-qdrant")}
    assert stores <= set(first.depends_on), "the first replica can only become ready once the stores are"
    assert not stores & set(first.input_dependencies), "a replaced store must not replace the replicas"


def test_docker_waits_for_the_whole_drain_before_it_kills_a_replica() -> None:
    """`docker stop` sends stop_signal, then SIGKILL after destroy_grace_seconds: the grace must cover the
    image's drain window (DRAIN_SECONDS in the Dockerfile) plus the in-flight requests' time after it."""
    replica = run_program("dev").named("brain-backend-1").inputs
    assert replica["stopSignal"] == "SIGTERM", "SIGTERM starts the backend's drain; anything else skips it"
    setting = re.search(r"DRAIN_SECONDS=([0-9.]+)", (ROOT / "backend" / "Dockerfile").read_text())
    assert setting, "the backend's Dockerfile sets DRAIN_SECONDS"
    drain = float(setting.group(1))
    assert replica["destroyGraceSeconds"] >= drain + GRACEFUL_SHUTDOWN_SECONDS, (
        f"{replica['destroyGraceSeconds']} s grace < {drain} s drain + {GRACEFUL_SHUTDOWN_SECONDS} s for in-flight requests")

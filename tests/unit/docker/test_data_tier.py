"""Dev data tier: protected volumes, generated secret credentials, health checks, private by default."""

from __future__ import annotations

from tools.program import is_secret, mock_secret_value, reveal
from tests.support.renders import run_program

DATA_CONTAINERS = ("brain-postgres", "brain-redis", "brain-qdrant")


def test_data_volumes_are_protected_and_retained() -> None:
    volumes = [
        volume for volume in run_program("dev").of_type("docker:index/volume:Volume")
        if volume.parent and "brain:docker:DataTier" in volume.parent
    ]
    assert sorted(volume.inputs["name"] for volume in volumes) == [
        "brain-postgres-data",
        "brain-qdrant-data",
        "brain-redis-data",
    ]
    for volume in volumes:
        assert volume.protect, f"{volume.urn} must be protected: a destroy must not drop data"
        assert volume.retain_on_delete, f"{volume.urn} must be retained when deleted or replaced"


def test_each_data_container_mounts_its_volume() -> None:
    run = run_program("dev")
    for name in DATA_CONTAINERS:
        mounts = run.named(name).inputs["volumes"]
        assert [mount["volumeName"] for mount in mounts] == [f"{name}-data"], f"{name} mounts {mounts}"


def test_credentials_are_generated_secrets_in_the_containers_env() -> None:
    run = run_program("dev")
    expected = {
        "brain-postgres": ("POSTGRES_PASSWORD=", "brain-postgres-password"),
        "brain-redis": ("REDIS_PASSWORD=", "brain-redis-password"),
        "brain-qdrant": ("QDRANT__SERVICE__API_KEY=", "brain-qdrant-api-key"),
    }
    for container, (variable, password) in expected.items():
        envs = run.named(container).inputs["envs"]
        assert is_secret(envs), f"{container}'s env holds a credential and must be secret"
        assert f"{variable}{mock_secret_value(password)}" in reveal(envs)
        assert run.named(password).type == "random:index/randomPassword:RandomPassword"


def test_no_credential_on_a_command_line() -> None:
    run = run_program("dev")
    for name in DATA_CONTAINERS:
        command = " ".join(run.named(name).inputs.get("command") or [])
        assert "MOCK-SECRET" not in command, f"{name} puts a credential on its command line: {command}"


def test_data_containers_are_health_checked_and_awaited() -> None:
    run = run_program("dev")
    for name in DATA_CONTAINERS:
        inputs = run.named(name).inputs
        assert inputs["healthcheck"]["tests"], f"{name} has no health check"
        assert inputs["wait"] is True, f"{name} must be healthy before dependents start"
        assert [network["aliases"] for network in inputs["networksAdvanced"]] == [[name.removeprefix("brain-")]]

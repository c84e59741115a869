"""`make down`: the same preflight as `make up`, then `pulumi destroy --exclude-protected` on that daemon,
keeping the protected data volumes and saying so."""

from __future__ import annotations

from pathlib import Path

from tests.support.shims import COLIMA, DOCKER_UP, PULUMI_READY, bin_with, calls, run_script


def test_without_pulumi_or_docker_it_names_both_and_stops(tmp_path: Path) -> None:
    result = run_script("down.sh", bin_with(tmp_path))
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("make down needs what is missing on this machine:"), result.stderr
    assert "the Pulumi CLI" in result.stderr and "Docker: https://docs.docker.com/engine/install/" in result.stderr


def test_it_destroys_all_but_the_protected_volumes_on_the_contexts_daemon(tmp_path: Path) -> None:
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=PULUMI_READY, make="exit 0")
    result = run_script("down.sh", path)
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    destroys = [call for call in calls(path) if call.startswith("pulumi destroy")]
    assert destroys == [f"pulumi destroy --stack dev --exclude-protected DOCKER_HOST={COLIMA}"], calls(path)
    assert "protected data volumes (PostgreSQL, Redis, Qdrant) stay" in result.stdout
    assert "pulumi state unprotect --all" in result.stdout, "it must say how to remove the data too"


def test_without_a_dev_stack_there_is_nothing_to_destroy(tmp_path: Path) -> None:
    pulumi = '[ "$1 $2" = "stack select" ] && exit 1; exit 0'
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=pulumi, make="exit 0")
    result = run_script("down.sh", path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "nothing to remove" in result.stdout
    assert not [call for call in calls(path) if call.startswith("pulumi destroy")], calls(path)

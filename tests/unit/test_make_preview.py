"""`make preview`: the same preflight and daemon as `make up`, then `pulumi preview --diff` on the dev stack,
quiet on success; without a dev stack it says that `make up` creates one."""

from __future__ import annotations

from pathlib import Path

from tests.support.shims import COLIMA, DOCKER_UP, PULUMI_READY, bin_with, calls, run_script


def test_it_previews_the_dev_stack_on_the_contexts_daemon_quietly(tmp_path: Path) -> None:
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=PULUMI_READY, make="exit 0")
    result = run_script("preview.sh", path)
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    pulumi_runs = [call for call in calls(path) if call.startswith(("pulumi preview", "pulumi up", "pulumi destroy"))]
    assert pulumi_runs == [f"pulumi preview --diff --stack dev DOCKER_HOST={COLIMA}"], calls(path)
    assert f"Docker daemon: {COLIMA} (the Docker CLI's current context)" in result.stdout


def test_without_a_dev_stack_it_points_at_make_up(tmp_path: Path) -> None:
    pulumi = '[ "$1 $2" = "stack select" ] && exit 1; exit 0'
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=pulumi, make="exit 0")
    result = run_script("preview.sh", path)
    assert result.returncode == 1 and "'make up' creates it" in result.stderr, result.stdout + result.stderr
    assert not [call for call in calls(path) if call.startswith("pulumi preview")], calls(path)


def test_without_pulumi_or_docker_it_names_both_and_stops(tmp_path: Path) -> None:
    result = run_script("preview.sh", bin_with(tmp_path))
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("make preview needs what is missing on this machine:"), result.stderr

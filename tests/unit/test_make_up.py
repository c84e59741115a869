"""`make up`: stops at once naming what is missing; otherwise one Docker daemon for every step, said aloud,
the plan before and a summary after, and nothing on stderr when it succeeds."""

from __future__ import annotations

from pathlib import Path

from tests.support.shims import COLIMA, DOCKER_UP, PULUMI_READY, bin_with, calls, run_script


def test_without_pulumi_or_docker_it_names_both_and_stops(tmp_path: Path) -> None:
    result = run_script("up.sh", bin_with(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "the Pulumi CLI" in result.stderr and "https://www.pulumi.com/docs/install/" in result.stderr
    assert "Docker: https://docs.docker.com/engine/install/" in result.stderr
    assert "make render STACK=dev" in result.stderr, "it must point at the offline render"
    # Nothing else ran: `make` is not on this PATH, so reaching the venv setup would have said "not found".
    assert result.stderr.startswith("make up needs what is missing on this machine:"), result.stderr
    assert "not found" not in result.stderr and result.stdout == "", result.stdout + result.stderr


def test_docker_without_a_running_engine_is_named_with_its_endpoint(tmp_path: Path) -> None:
    path = bin_with(tmp_path, pulumi="exit 0", docker=f'[ "$1" = info ] && exit 1; echo {COLIMA}')
    result = run_script("up.sh", path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("make up needs what is missing on this machine:"), result.stderr
    assert f"cannot reach the daemon at {COLIMA}" in result.stderr
    assert "Pulumi CLI" not in result.stderr, "the Pulumi CLI is there: only Docker's engine is missing"


def test_the_current_contexts_daemon_reaches_pulumi_and_is_named(tmp_path: Path) -> None:
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=PULUMI_READY, make="exit 0")
    result = run_script("up.sh", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", "a successful make up prints nothing on stderr"
    log = calls(path)
    assert log[0] == "docker context inspect --format {{.Endpoints.docker.Host}} DOCKER_HOST=<unset>", log
    assert f"docker info DOCKER_HOST={COLIMA}" in log, "the engine check must ask the daemon Pulumi will use"
    assert f"pulumi up --stack dev DOCKER_HOST={COLIMA}" in log, log
    assert f"Docker daemon: {COLIMA} (the Docker CLI's current context)" in result.stdout


def test_a_set_docker_host_wins_over_the_context(tmp_path: Path) -> None:
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=PULUMI_READY, make="exit 0")
    result = run_script("up.sh", path, DOCKER_HOST="tcp://10.0.0.5:2376")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [call for call in calls(path) if call.startswith("docker context")], "DOCKER_HOST was set"
    assert "pulumi up --stack dev DOCKER_HOST=tcp://10.0.0.5:2376" in calls(path)
    assert "Docker daemon: tcp://10.0.0.5:2376 (DOCKER_HOST, already set)" in result.stdout


def test_it_says_what_it_will_do_then_where_everything_is(tmp_path: Path) -> None:
    path = bin_with(tmp_path, docker=DOCKER_UP, pulumi=PULUMI_READY, make="exit 0")
    result = run_script("up.sh", path)
    before, _, after = result.stdout.partition("The dev stack is up.")
    assert "Deploying stack 'dev'" in before and "asks before it changes anything" in before, before
    # The URLs are the stack's outputs (the fake answers with the output's name).
    for line in ("BRAiN Core:   http://localhost:8080/balancer_url", "Grafana:      http://localhost:8080/grafana_url",
                 "Prometheus:   http://localhost:8080/prometheus_url", "docker logs brain-backend-1",
                 "pulumi stack output --show-secrets grafana_admin_password",
                 "pulumi config set --path brain:backend.replicas 5", "Tear down:    make down"):
        assert line in after, after


def test_a_failed_pulumi_up_prints_no_summary(tmp_path: Path) -> None:
    pulumi = '[ "$1" = up ] && exit 255; exit 0'
    result = run_script("up.sh", bin_with(tmp_path, docker=DOCKER_UP, pulumi=pulumi, make="exit 0"))
    assert result.returncode == 255 and "The dev stack is up." not in result.stdout, result.stdout

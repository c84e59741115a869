"""backend/Dockerfile, read as text (no Docker engine here): what it copies exists, it runs as non-root, and it
starts, exposes and health-checks the backend the way the Pulumi program and the contract expect."""

from __future__ import annotations

import json
import re

from tests.support.processes import REPO_ROOT

CONTEXT = REPO_ROOT / "backend"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (CONTEXT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def arguments(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def test_base_image_is_a_slim_python_pinned_by_tag() -> None:
    (base,) = arguments("FROM")
    assert re.fullmatch(r"python:3\.1[12]\.?[0-9]*-slim(-bookworm)?", base), base


def test_every_copied_source_exists_in_the_context() -> None:
    for args in arguments("COPY"):
        *sources, _destination = args.split()
        for source in sources:
            assert (CONTEXT / source).exists(), f"COPY {source}: no such file in {CONTEXT}"


def test_runs_as_a_non_root_user() -> None:
    users = arguments("USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]


def test_starts_python_m_backend_from_app_and_stops_with_sigterm() -> None:
    assert arguments("WORKDIR")[-1] == "/app"
    assert json.loads(arguments("CMD")[-1]) == ["python", "-m", "backend"]
    assert arguments("STOPSIGNAL") == ["SIGTERM"]
    assert arguments("EXPOSE") == ["8000"]
    assert any(args.endswith("/app/backend") for args in arguments("COPY")), arguments("COPY")


def test_healthcheck_probes_readiness_with_python() -> None:
    (healthcheck,) = arguments("HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"] and "/health/ready" in command[2], command
    compile(command[2], "HEALTHCHECK", "exec")


def test_requirements_pin_every_package() -> None:
    lines = [line for line in (CONTEXT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][^\s]*", line) for line in lines), lines

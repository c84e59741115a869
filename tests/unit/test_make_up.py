"""`make up` on a machine without the Pulumi CLI or a Docker engine stops at once and says what to install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bin_with(tmp_path: Path, **fakes: str) -> Path:
    """A PATH directory holding only what up.sh needs to get as far as its checks, plus fake commands."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("bash", "dirname"):
        (directory / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    for name, script in fakes.items():
        fake = directory / name
        fake.write_text(f"#!{shutil.which('bash')}\n{script}\n")
        fake.chmod(0o755)
    return directory


def _up(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "up.sh")],
        env={"PATH": str(path), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_without_pulumi_or_docker_it_names_both_and_stops(tmp_path: Path) -> None:
    result = _up(_bin_with(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "the Pulumi CLI" in result.stderr and "https://www.pulumi.com/docs/install/" in result.stderr
    assert "Docker: https://docs.docker.com/engine/install/" in result.stderr
    assert "make render STACK=dev" in result.stderr, "it must point at the offline render"
    # Nothing else ran: `make` is not on this PATH, so reaching the venv setup would have said "not found".
    assert result.stderr.startswith("make up needs what is missing on this machine:"), result.stderr
    assert "not found" not in result.stderr and result.stdout == "", result.stdout + result.stderr


def test_docker_without_a_running_engine_is_named(tmp_path: Path) -> None:
    path = _bin_with(tmp_path, pulumi="exit 0", docker='[ "$1" = info ] && exit 1; exit 0')
    result = _up(path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("make up needs what is missing on this machine:"), result.stderr
    assert "cannot reach the daemon" in result.stderr
    assert "Pulumi CLI" not in result.stderr, "the Pulumi CLI is there: only Docker's engine is missing"

"""Quiet success: the README's offline commands exit 0 with nothing on stderr when they succeed (stderr is
for problems only, so a user or CI can treat any stderr as one). `make up`'s, `make preview`'s and `make down`'s
preflight are held to the same in tests/unit/test_make_up.py, test_make_preview.py and test_make_down.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # Python's own warning filters, not pytest's: what a user at a shell sees (PYTHONWARNINGS left out).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}"
    assert result.stderr == "", f"{' '.join(command)} succeeded but wrote to stderr:\n{result.stderr}"
    return result


def _make_render(stack: str, out: Path) -> None:
    make = shutil.which("make")
    if make is None:
        if os.environ.get("CI"):
            pytest.fail("make is required under CI")
        pytest.skip("make is not installed: `make render` cannot run here")
    # -o: take the venv as set up (this shared test venv is not rebuilt by a test); RENDER_OUT keeps build/ untouched.
    _run([make, "--no-print-directory", "-o", ".venv/.installed", "render", f"STACK={stack}", f"RENDER_OUT={out}"])
    assert (out / "resources.json").is_file()


@pytest.fixture(scope="module")
def dev_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make render STACK=dev`, run once: quiet itself, and the "before" of the --set diff below."""
    out = tmp_path_factory.mktemp("dev")
    _make_render("dev", out)
    return out


def test_make_render_is_quiet_for_dev(dev_render: Path) -> None:
    assert (dev_render / "nginx.conf").is_file()


def test_make_render_is_quiet_for_prod(tmp_path: Path) -> None:
    _make_render("prod", tmp_path)


def test_render_with_set_and_its_diff_are_quiet(dev_render: Path, tmp_path: Path) -> None:
    after = tmp_path / "after"
    _run([sys.executable, "-m", "tools.render", "--stack", "dev", "--out", str(after),
          "--set", "balancer.algorithm=ip_hash"])
    diff = _run([sys.executable, "-m", "tools.render", "--diff", str(dev_render), str(after)])
    assert re.search(r"^\+\s*ip_hash;", diff.stdout, re.M), diff.stdout

"""Run scripts/up.sh and scripts/down.sh with a bare PATH of fake commands: their preflight, the daemon they
pick and the Pulumi commands they run, without a Docker engine or the Pulumi CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What the scripts themselves need besides the tools under test.
REAL_TOOLS = ("bash", "dirname", "cat")

# A fake that appends "<name> <args> DOCKER_HOST=<value>" to $SHIM_LOG, then runs the given body.
_LOGGING = 'echo "$(basename "$0") $* DOCKER_HOST=${DOCKER_HOST-<unset>}" >> "$SHIM_LOG"\n'


def bin_with(tmp_path: Path, **fakes: str) -> Path:
    """A PATH directory holding only REAL_TOOLS plus fake commands (name: bash body), each logging its calls."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in (*REAL_TOOLS, "basename"):
        (directory / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    for name, script in fakes.items():
        fake = directory / name
        fake.write_text(f"#!{shutil.which('bash')}\n{_LOGGING}{script}\n")
        fake.chmod(0o755)
    return directory


def run_script(script: str, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """scripts/<script> with PATH=`path`, a HOME, $SHIM_LOG next to `path`, and `env`."""
    return subprocess.run(
        [str(REPO / "scripts" / script)],
        env={"PATH": str(path), "HOME": os.environ.get("HOME", "/tmp"), "SHIM_LOG": str(path.parent / "calls.log"),
             **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def calls(path: Path) -> list[str]:
    """The fakes' calls, in order."""
    log = path.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


# A docker whose current context points at a Colima socket and whose daemon answers.
COLIMA = "unix:///home/user/.colima/default/docker.sock"
DOCKER_UP = f"""[ "$1 $2" = "context inspect" ] && echo '{COLIMA}'; exit 0"""
# A pulumi logged in, with a stack dev, and these outputs.
PULUMI_READY = """case "$1 $2" in
  "stack output") echo "http://localhost:8080/${*: -1}";;
esac
exit 0"""

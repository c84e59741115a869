"""Loading a new nginx.conf into a running nginx without a restart: checked first, then swapped and reloaded."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


def reload_script(conf_path: str, nginx: Sequence[str] = ("nginx",)) -> str:
    """A POSIX sh script that reads the new config on stdin, has nginx check it, swaps it in and reloads.

    A config nginx refuses never replaces the running one: the script exits non-zero with nginx's
    complaint and the old workers keep serving. `nginx` is the command with any fixed arguments
    (a test passes its prefix); `-c` is added here.
    """
    conf, candidate, command = shlex.quote(conf_path), shlex.quote(f"{conf_path}.next"), shlex.join(nginx)
    return (
        "set -eu; "
        f"cat > {candidate}; "
        f"if ! {command} -t -q -c {candidate}; then rm -f {candidate}; exit 1; fi; "
        f"mv {candidate} {conf}; "
        f"exec {command} -c {conf} -s reload"
    )


def reset_failures_script(conf_path: str, nginx: Sequence[str] = ("nginx",)) -> str:
    """A reload with the config already in place: the one way open-source nginx forgets the failures it
    counted against a replica, so a replica that is ready again takes traffic at once instead of after
    `fail_timeout` (by when, in a rolling update, the next replica may be down too)."""
    return f"exec {shlex.join(nginx)} -c {shlex.quote(conf_path)} -s reload"

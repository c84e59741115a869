"""`python -m bench.run [--quick | --smoke] [--out DIR] [--only SCENARIO ...]`: run the benchmarks, write the results.

Starts Redis, three fixed-capacity reference backends and nginx on loopback (127.0.0.x), runs every scenario
against them, stops them all, and writes `<scenario>.json` plus RESULTS.md to `--out` (bench/results).
`--quick` (make bench-quick) runs the scenarios behind the main targets in under a minute and writes only
`quick.json`, next to the full run's files. `--smoke` runs every scenario for a moment: it proves the
machinery (the smoke test), its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.machine import finish_machine_info, machine_info
from bench.report import write_quick_summary, write_results
from bench.rig import BenchRig
from bench.scenario import FULL, QUICK, SMOKE, Capacity, Profile, ScenarioResult
from bench.scenarios import (
    balancer_latency,
    equal_utilization,
    failover,
    keepalive,
    scaling,
    uneven_fleet,
    websockets,
)
from bench.wrk import wrk_version
from tests.support.nginx import nginx_version

RESULTS_DIR = Path(__file__).with_name("results")

SCENARIOS: dict[str, Callable[[BenchRig, Profile], ScenarioResult]] = {
    scaling.NAME: scaling.run,
    equal_utilization.NAME: equal_utilization.run,
    balancer_latency.NAME: balancer_latency.run,
    failover.KILL: failover.run_kill,
    failover.ROLLING_RESTART: failover.run_rolling_restart,
    failover.ROLLING_RESTART_WHEN_READY: failover.run_rolling_restart_when_ready,
    keepalive.NAME: keepalive.run,
    uneven_fleet.NAME: uneven_fleet.run,
    websockets.NAME: websockets.run,
}
QUICK_SCENARIOS = [scaling.NAME, balancer_latency.NAME, failover.KILL, failover.ROLLING_RESTART_WHEN_READY,
                   keepalive.NAME, websockets.NAME]
"""What `--quick` runs: one scenario per headline target (the slow rolling restart and the extra comparisons
are left out)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0] if __doc__ else "")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the main targets in under a minute: writes quick.json only")
    mode.add_argument("--smoke", action="store_true", help="a moment per scenario: checks the machinery only")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"where to write the results ({RESULTS_DIR})")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), metavar="SCENARIO",
                        help=f"run only these scenarios: {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else SMOKE if args.smoke else FULL
    _allow_many_open_files()
    try:
        machine = machine_info(".".join(map(str, nginx_version())), wrk_version())
        results = _run_scenarios(args.only or (QUICK_SCENARIOS if args.quick else list(SCENARIOS)), profile)
    except (pytest.skip.Exception, pytest.fail.Exception) as missing:  # a binary is missing (tests.support)
        print(f"bench: {missing.msg}; see bench/README.md", file=sys.stderr)
        return 2
    finish_machine_info(machine)
    written = [write_quick_summary(results, machine, args.out)]
    if not args.quick:
        written += write_results(results, machine, profile, args.out)
    for path in written:
        print(f"bench: wrote {path}")
    return 0


def _run_scenarios(names: list[str], profile: Profile) -> list[ScenarioResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="brain-bench-") as work_dir, BenchRig(Path(work_dir), Capacity()) as rig:
        for name in names:
            print(f"bench: {name} ({profile.name}) ...", flush=True)
            started = time.monotonic()
            result = SCENARIOS[name](rig, profile)
            print(f"bench:   took {time.monotonic() - started:.0f} s", flush=True)
            for target in result.targets:
                print(f"bench:   {'PASS' if target.passed else 'MISS'} {target.name}: {target.measured:g} "
                      f"(goal {target.goal})", flush=True)
            results.append(result)
    return results


def _allow_many_open_files() -> None:
    """1,000 WebSockets need more descriptors than the usual soft limit of 1,024; children inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    sys.exit(main())

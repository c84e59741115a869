"""No failed GET while replicas go away under load: one killed (SIGKILL, as in a crash), or every one restarted
in turn (SIGTERM: drain, exit; start; ready; next), as a rolling update does.

nginx runs the stack's default balancer config over the three fixed-capacity backends; wrk keeps as many
connections open as the three backends have slots, from before the first step until after the last. Every
response other than 2xx and every connect, read, write error or timeout counts as a failed GET.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.machine import CpuMeter
from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target
from components.config import BalancerConfig, nginx_seconds
from tests.support.topology import Balancer
from tests.support.processes import BackendProcess, wait_until

KILL = "failover_kill"
ROLLING_RESTART = "rolling_restart"
ROLLING_RESTART_WHEN_READY = "rolling_restart_when_ready"
REJOIN_MARGIN_SECONDS = 15.0
Step = Callable[[str], None]
"""Records an event on the scenario's timeline."""
NO_LIVE_UPSTREAMS = "no live upstreams"
NGINX_MESSAGES = ("upstream server temporarily disabled", NO_LIVE_UPSTREAMS)
"""What nginx's error log says when it sidelines a replica (max_fails reached) and when none is left."""


def run_kill(rig: BenchRig, profile: Profile) -> ScenarioResult:
    victim = rig.fleet.instances[0]

    def kill_and_restart(balancer: Balancer, step: Step) -> None:
        rig.fleet.kill(0)
        step(f"killed {victim}")
        time.sleep(2 * profile.settle_seconds)
        rig.fleet.start(0)
        step(f"started {victim} again (ready)")

    return _under_load(
        rig, profile, KILL, "A backend killed under load", kill_and_restart,
        "SIGKILL one of three backends; keep the load on; start it again.", "failover_failed",
    )


def run_rolling_restart(rig: BenchRig, profile: Profile) -> ScenarioResult:
    fail_timeout = nginx_seconds(_balancer_config(profile).fail_timeout)

    def until_nginx_routes_to_it(balancer: Balancer, index: int, step: Step) -> None:
        _wait_until_proxied_to(rig.fleet.processes[index], fail_timeout)
        step(f"{rig.fleet.instances[index]} serves requests from nginx again")

    return _rolling_restart(
        rig, profile, ROLLING_RESTART, "Rolling restart of every backend under load", until_nginx_routes_to_it,
        "until it is ready and nginx sends it requests again (after fail_timeout, if nginx had marked it failed)",
        "rolling_wait_for_nginx_failed",
    )


def run_rolling_restart_when_ready(rig: BenchRig, profile: Profile) -> ScenarioResult:
    def nginx_forgets_failures(balancer: Balancer, index: int, step: Step) -> None:
        balancer.process.reset_failures()
        step("nginx reloaded (forgets the failures it counted)")

    result = _rolling_restart(
        rig, profile, ROLLING_RESTART_WHEN_READY, "Rolling restart under load as the dev stack does it",
        nginx_forgets_failures,
        "until it is ready (the dev stack's health-gated replacement), reload nginx so that it forgets the "
        "failures it counted against the replica (components/docker/backend.py does the same)",
        "rolling_failed",
    )
    read_errors = result.measurements["load"]["socket_errors"]["read"]
    if read_errors:
        result.notes.append(
            f"{read_errors} GETs failed with a read error (the connection closed before an answer): a reload closes "
            "idle keep-alive client connections, and a request wrk sent on one at that moment is lost. Clients that "
            "retry an idempotent request on a reused connection closed under them (as HTTP/1.1 allows) do not see it."
        )
    return result


def _rolling_restart(rig: BenchRig, profile: Profile, name: str, title: str,
                     before_next: Callable[[Balancer, int, Step], None], gate: str, summary_key: str) -> ScenarioResult:
    def restart_each(balancer: Balancer, step: Step) -> None:
        for index, instance in enumerate(rig.fleet.instances):
            rig.fleet.stop(index)
            step(f"{instance} drained and exited")
            rig.fleet.start(index)
            step(f"{instance} started (ready)")
            before_next(balancer, index, step)
            time.sleep(profile.settle_seconds)

    return _under_load(
        rig, profile, name, title, restart_each,
        f"Each backend in turn: SIGTERM (1 s drain window with readiness 503), wait for its exit, start it, wait "
        f"{gate}, then {profile.settle_seconds:g} s of load, then the next.", summary_key,
    )


def _balancer_config(profile: Profile) -> BalancerConfig:
    """The stack's default balancer config; the quick profile shortens fail_timeout so a rejoin takes a moment."""
    return BalancerConfig() if profile.fail_timeout is None else BalancerConfig(fail_timeout=profile.fail_timeout)


def _wait_until_proxied_to(backend: BackendProcess, fail_timeout_seconds: float) -> None:
    """Returns once nginx opens connections to `backend` again: between two of our own (one each) it accepted more.

    nginx sidelines a replica that refused max_fails connections for fail_timeout; moving on to the next one
    before it is back could leave no replica to route to."""
    seen = [backend.get(INFO)[1]["connections_accepted"]]

    def others_connected() -> bool:
        seen.append(backend.get(INFO)[1]["connections_accepted"])
        return seen[-1] - seen[-2] > 1

    wait_until(others_connected, fail_timeout_seconds + REJOIN_MARGIN_SECONDS,
               f"nginx to send requests to {backend.name} again", interval=0.2)


def _under_load(rig: BenchRig, profile: Profile, name: str, title: str,
                steps: Callable[[Balancer, Step], None], what: str, summary_key: str) -> ScenarioResult:
    """`steps` under steady load through nginx; `summary_key` names the failed GETs in quick.json."""
    config = _balancer_config(profile)
    balancer = rig.start_balancer(rig.fleet.servers, config)
    connections = rig.capacity.concurrency * len(rig.fleet.processes)
    timeline: list[dict[str, Any]] = []
    started = time.monotonic()

    def step(event: str) -> None:
        timeline.append({"seconds": round(time.monotonic() - started, 2), "event": event})

    with rig.load(balancer.url(INFO), connections) as load:
        with CpuMeter(title, rig.cpu_groups(load.pids)) as meter:
            time.sleep(profile.settle_seconds)
            steps(balancer, step)
            time.sleep(profile.settle_seconds)
        result = load.stop()
    step("load stopped")
    error_log = balancer.process.error_log()
    nginx_said = {message: error_log.count(message) for message in NGINX_MESSAGES}
    notes = [f"nginx logged \"{message}\" {count:,} times." for message, count in nginx_said.items() if count]
    if nginx_said[NO_LIVE_UPSTREAMS]:
        notes.append(
            "Every replica was sidelined at once: each refused connections after its drain, reached max_fails "
            f"and stays out for fail_timeout ({config.fail_timeout}) even once it is ready again, so nginx had no "
            "replica left and answered 502."
        )
    return ScenarioResult(
        name=name,
        title=title,
        description=f"{what}\n\n{__doc__}",
        parameters={"connections": connections, "settle_seconds": profile.settle_seconds,
                    "balancer": f"max_fails {config.max_fails}, fail_timeout {config.fail_timeout}; a failed "
                                "request is retried on the next replica"},
        measurements={"load": result.as_json(), "timeline": timeline, "nginx_error_log": nginx_said},
        targets=[Target.at_most(f"failed GETs: {title.lower()}", 0, result.failed)],
        cpu=[meter.usage],
        notes=notes,
        summary={summary_key: result.failed},
    )

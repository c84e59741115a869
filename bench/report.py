"""Writes the results: `<scenario>.json` (raw numbers and the machine), RESULTS.md (the seed's table next to
ours, every target with PASS/MISS, and the CPU each process group used in every run) and scaling.png."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.plot import plot_scaling, plot_uneven_fleet
from bench.scenario import Profile, ScenarioResult, Target
from bench.scenarios import scaling, uneven_fleet

RESULTS_NAME = "RESULTS.md"
PLOT_NAME = "scaling.png"
QUICK_NAME = "quick.json"


def write_quick_summary(results: Sequence[ScenarioResult], machine: dict[str, Any], out_dir: Path) -> Path:
    """quick.json: every scenario's headline figures in one flat object, each target's verdict, the machine."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        **{key: value for result in results for key, value in result.summary.items()},
        "targets": [{"name": target.name, "goal": target.goal, "measured": target.measured, "passed": target.passed}
                    for result in results for target in result.targets],
        "machine": machine,
    }
    path = out_dir / QUICK_NAME
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def write_results(results: Sequence[ScenarioResult], machine: dict[str, Any], profile: Profile,
                  out_dir: Path) -> list[Path]:
    """Every scenario's JSON and RESULTS.md in `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        path = out_dir / f"{result.name}.json"
        document = {"scenario": result.name, "profile": profile.name, "machine": machine, **result.as_json()}
        path.write_text(json.dumps(document, indent=2) + "\n")
        written.append(path)
    by_name = {result.name: result for result in results}
    if scaling.NAME in by_name:
        plot_scaling(by_name[scaling.NAME], out_dir / PLOT_NAME)
        written.append(out_dir / PLOT_NAME)
    if uneven_fleet.NAME in by_name:
        plot_uneven_fleet(by_name[uneven_fleet.NAME].measurements["summary"], uneven_fleet.capacity_shares(),
                          out_dir / uneven_fleet.PLOT_NAME)
        written.append(out_dir / uneven_fleet.PLOT_NAME)
    markdown = out_dir / RESULTS_NAME
    markdown.write_text(render_markdown(results, machine, profile))
    written.append(markdown)
    return written


def render_markdown(results: Sequence[ScenarioResult], machine: dict[str, Any], profile: Profile) -> str:
    by_name = {result.name: result for result in results}
    lines = ["# Benchmark results", "", *_machine_paragraph(machine, profile), ""]
    if scaling.NAME in by_name:
        lines += _scaling_section(by_name[scaling.NAME])
    lines += ["## Targets (DESIGN.md section 6)", "", "| Target | Goal | Measured | Result |", "|---|---|---|---|"]
    lines += [_target_row(target) for result in results for target in result.targets]
    lines += ["", *_cpu_section(results), "## Scenarios", ""]
    for result in results:
        summary = result.description.strip().split("\n\n")[0].replace("\n", " ")
        lines += [f"### {result.title}", "", summary, "", f"Raw numbers: [`{result.name}.json`]({result.name}.json).", ""]
        lines += [f"- {note}" for note in result.notes]
        if result.notes:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _machine_paragraph(machine: dict[str, Any], profile: Profile) -> list[str]:
    load_before = " ".join(f"{value:g}" for value in machine["load_average"])
    load_after = " ".join(f"{value:g}" for value in machine["load_average_after"])
    cpu_before, cpu_after = machine["cpu_busy_and_steal_percent"], machine["cpu_busy_and_steal_percent_after"]
    return [
        f"Measured by `python -m bench.run{'' if profile.name == 'full' else ' --' + profile.name}` (profile `{profile.name}`) "
        f"on {machine['date']}: {machine['cpu_count']} cores ({machine['cpu_model']}), {machine['memory_mb']:,} MB, "
        f"Linux {machine['kernel']}, nginx {machine['nginx']}, wrk {machine['wrk']}, Python {machine['python']}. "
        f"Load average (1, 5, 15 min) {load_before} at the start, {load_after} at the end; in the second before "
        f"the run the cores were {cpu_before['busy']:g}% busy ({cpu_before['steal']:g}% stolen by the hypervisor), "
        f"in the second after it {cpu_after['busy']:g}% ({cpu_after['steal']:g}% stolen).",
        "",
        "Everything runs on this one machine: the load generator, nginx, three backends, Redis and any other "
        "program that was running meanwhile share its cores (see the CPU table). Compare the configurations "
        "measured side by side, not the absolute numbers with another machine's.",
    ]


def _scaling_section(result: ScenarioResult) -> list[str]:
    by_capacity: list[dict[str, Any]] = result.measurements["by_capacity"]
    lines = [
        "## 1 backend vs 3 backends (the seed's table)",
        "",
        "Each backend serves at most the given number of requests at once, each taking the given service time; "
        f"the others queue. Medians of {result.parameters['rounds']} interleaved rounds of "
        f"{result.parameters['seconds_per_run']:g} s each.",
        "",
        "| Load generator | Configuration | Capacity per backend | Clients | Requests/s | vs 1 backend "
        "| vs 3 direct in parallel | p50 | p99 | p99 vs 3 direct in parallel "
        "| New backend connections / 100 requests | Failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    seed_one = scaling.SEED_TABLE["1 backend"]["rps"]
    for name, seed in scaling.SEED_TABLE.items():
        lines.append(
            f"| | seed: {name} | | {seed['clients']} | {seed['rps']:,} | {seed['rps'] / seed_one:.2f}x | | "
            f"{seed['p50_ms']} ms | {seed['p99_ms']} ms | | | |"
        )
    for measured in by_capacity:
        capacity = measured["capacity"]
        described = f"{capacity['max_concurrency']} x {capacity['service_ms']:g} ms ({capacity['nominal_rps']:,.0f} req/s)"
        for name, row in measured["summary"].items():
            lines.append(
                f"| {measured['tool']} | here: {name} | {described} | {row['clients']} | {row['rps']:,.0f} | "
                f"{row['speedup_vs_direct']:.2f}x | {_ratio(row['rps_vs_parallel_direct'])} | {row['p50_ms']:.1f} ms | "
                f"{row['p99_ms']:.1f} ms | {_ratio(row['p99_vs_parallel_direct'])} | "
                f"{row['new_backend_connections_per_100_requests']:.2f} | {row['failed']} |"
            )
    lines += [
        "",
        f"![1 vs 3 backends]({PLOT_NAME})",
        "",
        "With clients queuing for a fixed capacity, latency is set by the queue (clients / throughput, Little's "
        "law), not by the balancer: 100 clients per backend at about 1,000 req/s wait about 100 ms. \"3 direct in "
        "parallel\" is the same three backends, each loaded by its own load generator at the same time: on a "
        "shared machine that, not 3 x one backend alone, is what nginx can at best reach. \"New "
        "backend connections\" of the direct run are wrk's own; behind nginx they are nginx's upstream ones, at "
        "saturation (300 clients, more than the `keepalive 32` idle connections per worker).",
        "",
    ]
    return lines


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _target_row(target: Target) -> str:
    measured = f"{target.measured:,.3f}".rstrip("0").rstrip(".") if isinstance(target.measured, float) else (
        f"{target.measured:,}")
    unit = f" {target.unit}" if target.unit else ""
    return f"| {target.name} | {target.goal} | {measured}{unit} | {'PASS' if target.passed else 'MISS'} |"


def _cpu_section(results: Sequence[ScenarioResult]) -> list[str]:
    rows = [(result.name, usage) for result in results for usage in result.cpu if usage]
    if not rows:
        return []
    groups = list(dict.fromkeys(group for _, usage in rows for group in usage["groups_percent"]))
    capacity = rows[0][1]["capacity_percent"]
    lines = [
        "## CPU: where the machine is the limit",
        "",
        f"Percent of one core during each measured run (the machine has {capacity:g}%). \"other processes\" is "
        "everything else that ran on the machine meanwhile. A run marked **saturated** had the cores at least "
        "90% busy: its throughput and latency measure the machine, not the balancer.",
        "",
        "| Scenario | Run | Machine busy | " + " | ".join(groups) + " | other processes |",
        "|---|---|---|" + "---|" * len(groups) + "---|",
    ]
    for name, usage in rows:
        busy = f"{usage['machine_busy_percent']:.0f}%" + (" **saturated**" if usage["saturated"] else "")
        cells = [f"{usage['groups_percent'].get(group, 0):.0f}" if group in usage["groups_percent"] else ""
                 for group in groups]
        lines.append(f"| {name} | {usage['run']} | {busy} | " + " | ".join(cells) + f" | {usage['others_percent']:.0f} |")
    saturated = [f"{name}: {usage['run']}" for name, usage in rows if usage["saturated"]]
    lines += ["", "Saturated runs: " + ("; ".join(saturated) if saturated else "none.") + "", ""]
    return lines

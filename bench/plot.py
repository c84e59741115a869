"""The plots of RESULTS.md: `scaling.png` (the seed's table next to ours: throughput, p50/p99 latency) and
`uneven_fleet.png` (each algorithm's shares and latency over an uneven fleet)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bench.scenario import ScenarioResult
from bench.scenarios import scaling

SEED_COLOR = "#bbbbbb"
HERE_COLORS = ("#2b6cb0", "#d69e2e", "#38a169")
"""One per measured capacity and load generator (wrk and hey at the seed's capacity, wrk at half)."""


def plot_scaling(result: ScenarioResult, path: Path) -> None:
    """Bars per configuration, the seed's in grey: requests/s on the left, p50 and p99 on the right."""
    rows: list[tuple[str, dict[str, Any], str]] = [
        (f"seed: {name}", values, SEED_COLOR) for name, values in scaling.SEED_TABLE.items()
    ]
    for measured, color in zip(result.measurements["by_capacity"], HERE_COLORS, strict=False):
        nominal = measured["capacity"]["nominal_rps"]
        rows += [(f"{measured['tool']}: {name}, {nominal:,.0f}/s each", values, color)
                 for name, values in measured["summary"].items()]
    labels = [textwrap.fill(label, 14) for label, _, _ in rows]
    colors = [color for _, _, color in rows]
    positions = list(range(len(rows)))

    figure = Figure(figsize=(22, 6.5))  # no pyplot: no global state, no display backend to choose
    throughput, latency = figure.subplots(1, 2)
    throughput.bar(positions, [values["rps"] for _, values, _ in rows], color=colors)
    throughput.set_title("Throughput")
    throughput.set_ylabel("requests/s")
    width = 0.4
    latency.bar([p - width / 2 for p in positions], [values["p50_ms"] for _, values, _ in rows], width, color=colors)
    latency.bar([p + width / 2 for p in positions], [values["p99_ms"] for _, values, _ in rows], width,
                color=colors, alpha=0.55, hatch="//")
    latency.set_title("Latency: p50 solid, p99 hatched")
    latency.set_ylabel("ms")
    for axes in (throughput, latency):
        axes.set_xticks(positions, labels, fontsize=7)
        axes.grid(axis="y", alpha=0.3)
    figure.suptitle("Seed (grey) vs here: 1 vs 3 backends of fixed capacity, 100 clients per backend")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_uneven_fleet(summary: dict[str, dict[str, Any]], capacity_shares: dict[str, float], path: Path) -> None:
    """Per algorithm: each replica's share of the requests beside its share of the capacity (left), p50 and
    p99 (right)."""
    algorithms = list(summary)
    replicas = list(capacity_shares)
    positions = list(range(len(algorithms)))
    figure = Figure(figsize=(13, 5))
    shares, latency = figure.subplots(1, 2)
    width = 0.8 / len(replicas)
    for number, replica in enumerate(replicas):
        offsets = [p - 0.4 + width * (number + 0.5) for p in positions]
        shares.bar(offsets, [summary[algorithm]["share"][replica] for algorithm in algorithms], width, label=replica)
        shares.axhline(capacity_shares[replica], color=f"C{number}", linestyle="--", linewidth=0.8)
    shares.set_title("Share of requests per replica (dashed: share of capacity)")
    shares.set_ylabel("share")
    shares.legend(fontsize=8)
    latency.bar([p - 0.2 for p in positions], [summary[a]["p50_ms"] for a in algorithms], 0.4, label="p50")
    latency.bar([p + 0.2 for p in positions], [summary[a]["p99_ms"] for a in algorithms], 0.4, label="p99",
                hatch="//", alpha=0.6)
    latency.set_title("Latency through nginx")
    latency.set_ylabel("ms")
    latency.legend(fontsize=8)
    for axes in (shares, latency):
        axes.set_xticks(positions, algorithms, fontsize=8)
        axes.grid(axis="y", alpha=0.3)
    figure.suptitle("One replica 3x slower: 300 clients from 100 networks, closed loop (wrk)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)

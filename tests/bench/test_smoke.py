"""The benchmark machinery in its quickest form (`python -m bench.run --smoke`), so it cannot rot unnoticed:
every scenario runs against real processes and writes well-formed results, including the summary that
`make bench-quick` writes (quick.json).

Timings and ratios are never asserted here: they are measurements of a machine, not behaviour of the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.hey import hey_binary
from bench.report import PLOT_NAME, QUICK_NAME, RESULTS_NAME
from bench.scenarios import scaling, uneven_fleet
from bench.wrk import wrk_binary
from tests.support.nginx import nginx_binary
from tests.support.processes import require_binary

pytestmark = pytest.mark.live

MACHINE_KEYS = {"date", "cpu_count", "cpu_model", "memory_mb", "load_average", "load_average_after",
                "cpu_busy_and_steal_percent", "cpu_busy_and_steal_percent_after", "kernel", "python", "nginx", "wrk"}
QUICK_KEYS = {"scaling_efficiency", "lb_added_p50_ms", "failover_failed", "rolling_failed", "upstream_conns_per_100",
              "ws_connections", "ws_broadcast_p99_ms"}
"""What issue 11 asks `make bench-quick` to report, at least."""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke run of every scenario (binaries missing: skipped locally, failed under CI=true)."""
    nginx_binary()
    wrk_binary()
    hey_binary()
    require_binary("cc", Path("/usr/bin/cc"))  # builds bench/bind_sources.c for the uneven fleet's clients
    require_binary("redis-server", Path("/usr/bin/redis-server"))
    out = tmp_path_factory.mktemp("bench-results")
    assert run.main(["--smoke", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("scenario", list(run.SCENARIOS))
def test_each_scenario_writes_its_numbers_with_the_machine(results: Path, scenario: str) -> None:
    document = json.loads((results / f"{scenario}.json").read_text())
    assert document["scenario"] == scenario and document["profile"] == "smoke"
    assert MACHINE_KEYS <= document["machine"].keys(), f"machine info lacks {MACHINE_KEYS - document['machine'].keys()}"
    assert document["targets"] or document["summary"], f"{scenario} reports neither a target nor a summary"
    for target in document["targets"]:
        assert isinstance(target["passed"], bool) and isinstance(target["measured"], int | float), target
        assert target["goal"] and target["name"], target
    assert document["cpu"], f"{scenario} reports no CPU usage"
    for usage in document["cpu"]:
        assert {"run", "machine_busy_percent", "saturated", "groups_percent", "others_percent"} <= usage.keys(), usage


def test_the_quick_summary_has_every_headline_figure_and_every_target(results: Path) -> None:
    summary = json.loads((results / QUICK_NAME).read_text())
    assert QUICK_KEYS <= summary.keys(), f"{QUICK_NAME} lacks {QUICK_KEYS - summary.keys()}"
    for key in QUICK_KEYS:
        assert isinstance(summary[key], int | float) and not isinstance(summary[key], bool), (key, summary[key])
    documents = {scenario: json.loads((results / f"{scenario}.json").read_text()) for scenario in run.SCENARIOS}
    verdicts = [(target["name"], target["passed"]) for document in documents.values() for target in document["targets"]]
    assert [(target["name"], target["passed"]) for target in summary["targets"]] == verdicts
    assert MACHINE_KEYS <= summary["machine"].keys()
    from_quick_run = {key for scenario in run.QUICK_SCENARIOS for key in documents[scenario]["summary"]}
    assert QUICK_KEYS <= from_quick_run, f"make bench-quick runs no scenario for {QUICK_KEYS - from_quick_run}"


def test_the_report_has_the_seed_table_and_every_target(results: Path) -> None:
    report = (results / RESULTS_NAME).read_text()
    configurations = [*scaling.SEED_TABLE, scaling.DIRECT, scaling.ONE_BEHIND_NGINX, scaling.THREE_BEHIND_NGINX,
                      scaling.THREE_BEHIND_NGINX_OTHER, scaling.PARALLEL_DIRECT]
    for configuration in configurations:
        assert f"| {configuration} |" in report.replace("| seed: ", "| ").replace("| here: ", "| "), configuration
    rows = report.splitlines()
    for scenario in run.SCENARIOS:
        for target in json.loads((results / f"{scenario}.json").read_text())["targets"]:
            row = [line for line in rows if line.startswith(f"| {target['name']} | {target['goal']} |")]
            verdict = "PASS" if target["passed"] else "MISS"
            assert len(row) == 1 and row[0].endswith(f"| {verdict} |"), f"{target}: rows {row}"


def test_the_scaling_numbers_come_from_real_requests(results: Path) -> None:
    """Every configuration was loaded for real at every capacity: requests answered with 200, in every round."""
    by_capacity = json.loads((results / "scaling.json").read_text())["measurements"]["by_capacity"]
    assert [(measured["capacity"]["service_ms"], measured["tool"]) for measured in by_capacity] == [
        (scaling.CAPACITIES[0].service_ms, scaling.WRK), (scaling.CAPACITIES[0].service_ms, scaling.HEY),
        (scaling.CAPACITIES[1].service_ms, scaling.WRK)]
    for measured in by_capacity:
        runs = measured["runs"]
        assert set(runs) == {scaling.DIRECT, scaling.ONE_BEHIND_NGINX, scaling.THREE_BEHIND_NGINX,
                             scaling.THREE_BEHIND_NGINX_OTHER, scaling.PARALLEL_DIRECT}
        for configuration, rounds in runs.items():
            assert rounds and all(entry["statuses"].get("200", 0) > 0 for entry in rounds), (configuration, rounds)


@pytest.mark.parametrize("plot", [PLOT_NAME, uneven_fleet.PLOT_NAME])
def test_the_plots_are_pngs(results: Path, plot: str) -> None:
    assert (results / plot).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), f"{plot} is not a PNG"


def test_every_algorithm_served_requests_over_the_uneven_fleet_from_many_networks(results: Path) -> None:
    """Each algorithm's run reached replicas (their own counters), and ip_hash saw clients of more than one /24:
    with a single network it would send everything to one replica."""
    summary = json.loads((results / "uneven_fleet.json").read_text())["measurements"]["summary"]
    assert set(summary) == set(uneven_fleet.ALGORITHMS)
    for algorithm, values in summary.items():
        assert abs(sum(values["share"].values()) - 1) < 0.01, (algorithm, values)
    assert sum(share > 0 for share in summary["ip_hash"]["share"].values()) >= 2, summary["ip_hash"]

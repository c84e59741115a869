"""The benchmark machinery in its quickest form (`python -m bench.run --quick`), so it cannot rot unnoticed:
every scenario runs against real processes and writes well-formed results.

Timings and ratios are never asserted here: they are measurements of a machine, not behaviour of the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.report import PLOT_NAME, RESULTS_NAME
from bench.scenarios import scaling
from bench.wrk import wrk_binary
from tests.support.nginx import nginx_binary
from tests.support.processes import require_binary

pytestmark = pytest.mark.live

MACHINE_KEYS = {"date", "cpu_count", "cpu_model", "memory_mb", "load_average", "load_average_after", "kernel",
                "python", "nginx", "wrk"}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One quick run of every scenario (binaries missing: skipped locally, failed under CI=true)."""
    nginx_binary()
    wrk_binary()
    require_binary("redis-server", Path("/usr/bin/redis-server"))
    out = tmp_path_factory.mktemp("bench-results")
    assert run.main(["--quick", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("scenario", list(run.SCENARIOS))
def test_each_scenario_writes_its_numbers_with_the_machine(results: Path, scenario: str) -> None:
    document = json.loads((results / f"{scenario}.json").read_text())
    assert document["scenario"] == scenario and document["profile"] == "quick"
    assert MACHINE_KEYS <= document["machine"].keys(), f"machine info lacks {MACHINE_KEYS - document['machine'].keys()}"
    assert document["targets"], f"{scenario} reports no target"
    for target in document["targets"]:
        assert isinstance(target["passed"], bool) and isinstance(target["measured"], int | float), target
        assert target["goal"] and target["name"], target
    assert document["cpu"], f"{scenario} reports no CPU usage"
    for usage in document["cpu"]:
        assert {"run", "machine_busy_percent", "saturated", "groups_percent", "others_percent"} <= usage.keys(), usage


def test_the_report_has_the_seed_table_and_every_target(results: Path) -> None:
    report = (results / RESULTS_NAME).read_text()
    for configuration in [*scaling.SEED_TABLE, scaling.DIRECT, scaling.ONE_BEHIND_NGINX, scaling.THREE_BEHIND_NGINX]:
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
    assert len(by_capacity) == len(scaling.CAPACITIES)
    for measured in by_capacity:
        runs = measured["runs"]
        assert set(runs) == {scaling.DIRECT, scaling.ONE_BEHIND_NGINX, scaling.THREE_BEHIND_NGINX}
        for configuration, rounds in runs.items():
            assert rounds and all(entry["statuses"].get("200", 0) > 0 for entry in rounds), (configuration, rounds)


def test_the_scaling_plot_is_a_png(results: Path) -> None:
    assert (results / PLOT_NAME).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), f"{PLOT_NAME} is not a PNG"

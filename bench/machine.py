"""The machine a benchmark ran on, and the CPU each process group used during a run (read from /proc).

On a small machine the load generator, nginx and the backends share the cores: a run in which the machine
was (nearly) fully busy measured the machine, not the balancer, and the report says so.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SATURATED_PERCENT = 90.0
"""Above this share of all cores busy, a run's numbers say more about the machine than the balancer."""

PidSource = Callable[[], Iterable[int]]
"""The processes of one group right now (a restarted backend or a reloaded nginx has new pids)."""


def machine_info(nginx_version: str, wrk_version: str) -> dict[str, Any]:
    """What the results depend on: cores, CPU model, memory, load, versions, date."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mb": _memory_mb(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "cpu_busy_and_steal_percent": busy_and_steal_percent(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": nginx_version,
        "wrk": wrk_version,
    }


def finish_machine_info(machine: dict[str, Any]) -> None:
    """Adds the machine's load at the end of the run (other programs share it: the numbers depend on it)."""
    machine["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    machine["cpu_busy_and_steal_percent_after"] = busy_and_steal_percent()


def busy_and_steal_percent(seconds: float = 1.0) -> dict[str, float]:
    """Over the next `seconds`: how busy all cores were, and how much time the hypervisor gave to other guests
    (steal), in percent of the machine."""
    fields_before = _proc_stat_cpu()
    time.sleep(seconds)
    delta = [after - before for after, before in zip(_proc_stat_cpu(), fields_before, strict=True)]
    total = max(sum(delta[:8]), 1)
    return {"busy": round(100 * (total - delta[3] - delta[4]) / total, 1), "steal": round(100 * delta[7] / total, 1)}


def with_children(pid: int) -> list[int]:
    """`pid` and its descendants (nginx: the master and its workers); [] once it has exited."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(descendant for child in children for descendant in with_children(int(child)))]


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` so far; 0 once it has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
    after_name = stat.rsplit(")", 1)[1].split()
    user_ticks, system_ticks = int(after_name[11]), int(after_name[12])
    return (user_ticks + system_ticks) / CLOCK_TICKS


def _proc_stat_cpu() -> list[int]:
    """All cores' ticks since boot: user nice system idle iowait irq softirq steal guest guest_nice."""
    return [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


def _machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot; iowait counts as idle."""
    fields = _proc_stat_cpu()
    idle = fields[3] + fields[4]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class CpuMeter:
    """CPU used by each process group between entering and leaving the `with` block, in percent of one core.

    `others` is what the rest of the machine used meanwhile (other programs): it shows when the measurement
    was disturbed. A process that exited during the run (a killed or restarted backend) can no longer be read,
    so what it used lands in `others` too.
    """

    def __init__(self, label: str, groups: Mapping[str, PidSource]):
        self.label = label
        self._groups = groups
        self._start: dict[int, float] = {}
        self._started_at = 0.0
        self._machine_start = (0.0, 0.0)
        self.usage: dict[str, Any] = {}

    def _snapshot(self) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for source in self._groups.values() for pid in source()}

    def __enter__(self) -> CpuMeter:
        self._start = self._snapshot()
        self._machine_start = _machine_cpu_seconds()
        self._started_at = time.monotonic()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        wall = time.monotonic() - self._started_at
        busy_end, total_end = _machine_cpu_seconds()
        busy_start, total_start = self._machine_start
        cores = os.cpu_count() or 1
        per_group = {
            name: 100 * sum(process_cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in source()) / wall
            for name, source in self._groups.items()
        }
        machine_percent = 100 * cores * (busy_end - busy_start) / max(total_end - total_start, 1e-9)
        self.usage = {
            "run": self.label,
            "seconds": round(wall, 2),
            "capacity_percent": 100 * cores,
            "machine_busy_percent": round(machine_percent, 1),
            "saturated": machine_percent >= SATURATED_PERCENT * cores,
            "groups_percent": {name: round(value, 1) for name, value in per_group.items()},
            "others_percent": round(max(machine_percent - sum(per_group.values()), 0.0), 1),
        }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0

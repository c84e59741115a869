"""gixy-next, a peer analyzer, on the nginx.conf the dev stack renders for every algorithm: no finding beyond
the accepted ones in gixy_accepted.yaml (each with its reason)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest

from components.config import Algorithm
from tests.support.processes import require_binary
from tools.program import reveal
from tools import yaml_text
from tests.support.renders import run_program

ACCEPTED_FILE = Path(__file__).with_name("gixy_accepted.yaml")
GIXY_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Finding:
    """One gixy finding, keyed as the accepted list keys it."""

    plugin: str
    location: str
    """The innermost `location` gixy's excerpt names; "" for a finding outside any location."""
    summary: str = ""


def _accepted() -> set[tuple[str, str]]:
    entries = yaml_text.load(ACCEPTED_FILE.read_text())
    for entry in entries:
        assert set(entry) == {"plugin", "location", "reason"} and entry["reason"].strip(), (
            f"{ACCEPTED_FILE.name}: every entry needs plugin, location and a reason, got {entry}"
        )
    return {(entry["plugin"], entry["location"]) for entry in entries}


def gixy_findings(confs: dict[str, str], directory: Path) -> dict[str, list[Finding]]:
    """Every finding of gixy-next, at every severity, per named config (one gixy run for all of them)."""
    gixy = require_binary("gixy", Path(sys.executable).parent / "gixy")
    paths = {name: directory / f"{name}.conf" for name in confs}
    for name, path in paths.items():
        path.write_text(confs[name])
    result = subprocess.run(
        [gixy, "--format", "json", *map(str, paths.values())],
        capture_output=True, text=True, timeout=GIXY_TIMEOUT_SECONDS,
    )
    # gixy exits 0 without findings and 1 with some; anything else, or no JSON, means it failed.
    assert result.returncode in (0, 1), f"gixy exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"gixy printed no JSON report:\n{result.stdout}\n{result.stderr}") from None
    names = {str(path): name for name, path in paths.items()}
    findings: dict[str, list[Finding]] = {name: [] for name in confs}
    for item in report:
        findings[names[item["path"]]].append(Finding(item["plugin"], _innermost_location(item["config"]), item["summary"]))
    return findings


def _innermost_location(excerpt: str) -> str:
    locations = re.findall(r"^\s*location\s+(?:[=~^*]+\s+)?([^\s{]+)\s*\{", excerpt, re.MULTILINE)
    return locations[-1] if locations else ""


def new_findings(findings: list[Finding]) -> list[Finding]:
    accepted = _accepted()
    return [finding for finding in findings if (finding.plugin, finding.location) not in accepted]


def dev_nginx_conf(overrides: list[str]) -> str:
    """The nginx.conf the dev stack's balancer container receives."""
    return reveal(run_program("dev", overrides).named("brain-nginx").inputs["uploads"])[0]["content"]


def _overrides(algorithm: str) -> list[str]:
    weights = ["balancer.weights=[3,2,1]"] if algorithm == "weighted" else []
    return [f"balancer.algorithm={algorithm}", *weights]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    """gixy's findings on the rendering of every algorithm."""
    renderings = {algorithm: dev_nginx_conf(_overrides(algorithm)) for algorithm in get_args(Algorithm)}
    return gixy_findings(renderings, tmp_path_factory.mktemp("gixy"))


@pytest.mark.parametrize("algorithm", get_args(Algorithm))
def test_gixy_finds_nothing_new_in_any_algorithms_rendering(algorithm: str, findings: dict[str, list[Finding]]):
    found = new_findings(findings[algorithm])
    assert not found, (
        f"gixy-next reports findings not in {ACCEPTED_FILE.name} for balancer.algorithm={algorithm}: fix the "
        f"rendering, or accept them there with a reason:\n" + "\n".join(map(str, found))
    )


def test_every_accepted_finding_still_occurs(findings: dict[str, list[Finding]]):
    """An entry no rendering triggers any more would silently accept the next such finding: remove it."""
    occurring = {(finding.plugin, finding.location) for found in findings.values() for finding in found}
    assert _accepted() <= occurring, f"accepted but no longer found: {_accepted() - occurring}"


KNOWN_BAD = {
    "host_spoofing": ("proxy_set_header Host $host;", "proxy_set_header Host $http_host;"),
    "version_disclosure": ("server_tokens off;", "server_tokens on;"),
}
"""A directive of the rendering, and a variant of it that gixy's plugin reports."""


def test_a_known_bad_directive_is_a_new_finding(tmp_path: Path):
    """The check is live: each directive gixy knows to be bad, put into the rendering, is reported as new."""
    conf = dev_nginx_conf([])
    mutated = {}
    for plugin, (good, bad) in KNOWN_BAD.items():
        assert good in conf, f"the rendering no longer contains {good!r}; pick another mutation for {plugin}"
        mutated[plugin] = conf.replace(good, bad)
    found = gixy_findings(mutated, tmp_path)
    missed = {plugin for plugin in KNOWN_BAD if plugin not in {finding.plugin for finding in new_findings(found[plugin])}}
    assert not missed, f"gixy did not report {missed}: {found}"

"""Render diff (`python -m tools.render --diff OLD NEW`): names exactly what changed, short, capped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.render_command import render
from tools.render_diff import (
    COMMENT_BUDGET,
    MAX_DIFF_LINES,
    MISSING,
    NO_CHANGES,
    Render,
    changed_paths,
    summary,
)

CONTAINER = "docker:index/container:Container"


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The dev stack as configured (least_conn), and with ip_hash and a fourth replica."""
    base = tmp_path_factory.mktemp("renders")
    old, new = base / "old", base / "new"
    for out, overrides in ((old, []), (new, ["balancer.algorithm=ip_hash", "backend.replicas=4"])):
        result = render("--stack", "dev", "--out", str(out), *[arg for o in overrides for arg in ("--set", o)])
        assert result.returncode == 0, result.stderr
    return old, new


def test_identical_renders_say_no_changes(renders: tuple[Path, Path]) -> None:
    old, _ = renders
    result = render("--diff", str(old), str(old))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == NO_CHANGES


def test_algorithm_and_replica_change_names_exactly_those_changes(renders: tuple[Path, Path]) -> None:
    result = render("--diff", *map(str, renders))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    resources_section = text.split("**nginx.conf**", 1)[0]
    listed = [line for line in resources_section.splitlines() if line.startswith("- ")]
    assert listed == [
        f"- `{CONTAINER}` **brain-backend-4**",
        "- `command:local:Command` **brain-backend-4-rejoin**",
        "- `command:local:Command` **brain-nginx-reload**: `inputs.stdin`",
        # Prometheus' scrape config lists the new replica.
        f"- `{CONTAINER}` **brain-prometheus**: `inputs.uploads[0].content`",
    ], f"expected the new replica added, the balancer's config reloaded and scraped, nothing else:\n{text}"
    assert "2 added, 0 removed, 2 changed" in text
    assert "Kubernetes manifests" not in text
    block = re.search(r"\*\*nginx\.conf\*\*\n\n```diff\n(.*?)\n```", text, re.S)
    assert block, f"no nginx.conf diff block:\n{text}"
    added = [line[1:].strip() for line in block.group(1).splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line[1:].strip() for line in block.group(1).splitlines() if line.startswith("-") and not line.startswith("---")]
    assert "ip_hash;" in added and "least_conn;" in removed, (added, removed)
    assert any(line.startswith("server backend-4:8000") for line in added), added
    assert not any(line.startswith("server ") for line in removed), f"no existing server may go: {removed}"


def test_diff_of_a_directory_that_is_not_a_render_exits_2(tmp_path: Path, renders: tuple[Path, Path]) -> None:
    result = render("--diff", str(tmp_path), str(renders[1]))
    assert result.returncode == 2
    assert "resources.json" in result.stderr and str(tmp_path) in result.stderr


def test_diff_refuses_render_options(renders: tuple[Path, Path]) -> None:
    result = render("--diff", *map(str, renders), "--set", "backend.replicas=2")
    assert result.returncode == 2 and "--set go with --stack" in result.stderr, result.stderr


def test_changed_paths_walk_dicts_and_lists() -> None:
    old = {"envs": ["A=1", "B=2"], "ports": [{"internal": 8000}], "name": "x"}
    new = {"envs": ["A=1", "B=3", "C=4"], "ports": [{"internal": 8001}], "labels": {"app": "y"}}
    assert changed_paths(old, new, "inputs") == [
        ("inputs.envs[1]", "B=2", "B=3"),
        ("inputs.envs[2]", MISSING, "C=4"),
        ("inputs.labels", MISSING, {"app": "y"}),
        ("inputs.name", "x", MISSING),
        ("inputs.ports[0].internal", 8000, 8001),
    ]


def _render_with(resources: dict, nginx_conf: str | None = None, manifests: dict | None = None) -> Render:
    return Render(resources=resources, nginx_conf=nginx_conf, manifests=manifests or {})


def test_short_values_are_shown_next_to_their_path() -> None:
    key = (CONTAINER, "brain-backend-1", None)
    old = _render_with({key: {"inputs": {"memory": 512, "envs": ["A=1"]}}})
    new = _render_with({key: {"inputs": {"memory": 1024, "envs": ["A=1"]}}})
    assert f"- `{CONTAINER}` **brain-backend-1**: `inputs.memory` (`512` → `1024`)" in summary(old, new)


def test_a_long_diff_is_capped_with_a_note() -> None:
    old = _render_with({}, nginx_conf="".join(f"line {n}\n" for n in range(1000)))
    new = _render_with({}, nginx_conf="".join(f"line {n} changed\n" for n in range(1000)))
    text = summary(old, new)
    block = text.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert len(block) == MAX_DIFF_LINES + 1 and "more lines" in block[-1], block[-1]


def test_the_whole_summary_fits_a_pull_request_comment() -> None:
    long_lines = ["x" * 1000 + str(n) for n in range(400)]
    manifests = {f"deployment-brain-{n}.yaml": "\n".join(long_lines) for n in range(10)}
    before = {(CONTAINER, f"container-{n}", None): {"inputs": {f"input_{i}": i for i in range(30)}} for n in range(200)}
    after = {key: {"inputs": {f"input_{i}": f"changed-{i}" for i in range(30)}} for key in before}
    text = summary(_render_with(before, "a\n" * 3000), _render_with(after, "\n".join(long_lines), manifests))
    assert len(text) <= COMMENT_BUDGET, len(text)
    assert text.startswith("**Resources**: 0 added, 0 removed, 200 changed"), text[:200]
    assert "**nginx.conf**" in text, "the nginx.conf diff fits once its lines are cut"
    assert "More changes than a comment can hold" in text, "the manifests' diff does not fit any more"
    assert text.count("```") % 2 == 0, "every code block must be closed"


def test_a_backtick_fence_inside_a_file_does_not_end_the_block() -> None:
    text = summary(_render_with({}, manifests={"a.yaml": "x: 1\n"}), _render_with({}, manifests={"a.yaml": "x: ```\n"}))
    assert "````diff" in text and text.rstrip().endswith("````")

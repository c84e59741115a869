"""CI workflows: valid against GitHub's schema, clean under zizmor, pinned, least privilege, no template injection."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.program import ROOT
from tools import yaml_text

WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
VENV_BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")


def tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.is_file(), f"{name} is missing from the venv ({VENV_BIN}); install requirements-test.txt"
    return str(path)


def load(path: Path) -> dict[str, Any]:
    workflow = yaml_text.load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def steps(workflow: dict[str, Any]):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def test_both_workflows_exist() -> None:
    assert {path.name for path in WORKFLOW_FILES} >= {"test.yml", "preview.yml"}


def test_workflows_validate_against_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOW_FILES)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_of_medium_or_high_severity() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--min-severity", "medium", "--format", "json", str(WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    # zizmor exits 0 without findings, 10-14 by the worst finding's severity, anything else when it failed.
    findings = json.loads(result.stdout) if result.stdout.strip() else None
    assert result.returncode == 0 and findings == [], f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"\s*(-\s*)?uses:", line)]
    assert lines, f"{path.name} uses no action"
    for line in lines:
        reference = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        assert PINNED.match(reference), f"{path.name}: {reference} is not pinned to a full commit SHA"
        assert VERSION_COMMENT.search(line), f"{path.name}: {line.strip()} lacks its `# vX.Y.Z` comment"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for job_name, step in steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{path.name} job {job_name}: {step}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_no_template_expansion_inside_run_scripts(path: Path) -> None:
    for job_name, step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name} job {job_name}: pass values to `run` through env"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_least_privilege_permissions_and_one_run_per_ref(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"}), f"{path.name}: workflow-level permissions too wide"
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name} job {job_name} must state its permissions"
    assert workflow["concurrency"]["cancel-in-progress"] is True


def test_test_workflow_runs_the_readme_test_command_on_push_and_pull_request() -> None:
    workflow = load(WORKFLOWS / "test.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert any(".ci/run" in step.get("run", "") for _, step in steps(workflow))


def test_test_job_container_may_create_the_live_suites_network_namespace() -> None:
    """`ip netns add` needs SYS_ADMIN (it mounts /run/netns, which AppArmor's docker-default forbids), the veth
    pair NET_ADMIN; without them the namespace test fails under CI, as it must."""
    container = load(WORKFLOWS / "test.yml")["jobs"]["test"]["container"]
    assert container["image"] == "debian:12", container
    options = container["options"].split()
    assert {"--cap-add=SYS_ADMIN", "--cap-add=NET_ADMIN"} <= set(options), options
    assert "apparmor=unconfined" in options, options


def test_preview_renders_and_comments_per_stack_with_write_access_only_where_it_posts() -> None:
    workflow = load(WORKFLOWS / "preview.yml")
    assert set(workflow["on"]) == {"pull_request"}
    jobs = workflow["jobs"]
    for name in ("render", "comment", "pulumi-preview"):
        assert jobs[name]["strategy"]["matrix"]["stack"] == ["dev", "prod"], name
    assert jobs["render"]["permissions"] == {"contents": "read"}, "the job running the PR's code gets no write token"
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    assert not any("checkout" in step.get("uses", "") for step in jobs["comment"]["steps"]), (
        "the job holding the write token must not run code from the pull request"
    )
    render_script = next(step["run"] for step in jobs["render"]["steps"] if "tools.render --diff" in step.get("run", ""))
    comment_script = next(step["run"] for step in jobs["comment"]["steps"] if "gh api" in step.get("run", ""))
    marker = "<!-- brain-render-diff:$STACK -->"
    assert marker in render_script and marker in comment_script, "one comment per stack, found again by its marker"
    assert "PATCH" in comment_script, "an earlier comment is updated, not duplicated"


def test_pulumi_preview_runs_only_with_credentials_and_says_why_when_skipped() -> None:
    job = load(WORKFLOWS / "preview.yml")["jobs"]["pulumi-preview"]
    check, *rest = job["steps"]
    assert "::notice" in check["run"] and {"PULUMI_ACCESS_TOKEN", "AWS_ROLE_ARN"} <= set(check["env"])
    assert all(step["if"].startswith("steps.credentials.outputs.configured == 'true'") for step in rest)
    preview = next(step for step in rest if step.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview" and preview["with"]["comment-on-pr"] is True
    assert preview["with"]["diff"] is True

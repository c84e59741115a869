"""Offline render (`python -m tools.render`): the files of DESIGN.md section 4, secrets masked, bad input refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools import program
from tools.program import ROOT, SECRET_PLACEHOLDER, mock_secret_value, reveal
from tests.support.renders import run_program
from tests.support.render_command import render
from tools.render import main as render_main
from tools import yaml_text

CONTAINER = "docker:index/container:Container"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


def files_under(directory: Path) -> dict[str, str]:
    return {str(path.relative_to(directory)): path.read_text() for path in sorted(directory.rglob("*")) if path.is_file()}


def walk(value: Any):
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


@pytest.fixture(scope="module")
def dev_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("render") / "dev"
    result = render("--stack", "dev", "--out", str(out))
    assert result.returncode == 0, f"render failed:\n{result.stderr}"
    return out, result


def test_resources_json_lists_every_resource_after_its_parent_and_dependencies(dev_render) -> None:
    out, _ = dev_render
    entries = json.loads((out / "resources.json").read_text())
    recorded = run_program("dev").resources
    position = {(entry["type"], entry["name"]): index for index, entry in enumerate(entries)}
    assert sorted(position) == sorted((r.type, r.name) for r in recorded)
    by_urn = {r.urn: (r.type, r.name) for r in recorded}
    for resource in recorded:
        for urn in (resource.parent, *resource.depends_on):
            if urn in by_urn:
                assert position[by_urn[urn]] < position[(resource.type, resource.name)], (
                    f"{resource.name} is listed before {by_urn[urn]}, which it needs"
                )
    assert all(set(entry) - {"ignore_changes"} == {"type", "name", "parent", "inputs"} for entry in entries)
    ignoring = {entry["name"]: entry["ignore_changes"] for entry in entries if "ignore_changes" in entry}
    assert ignoring == {r.name: r.ignore_changes for r in recorded if r.ignore_changes} == {"brain-nginx": ["uploads"]}
    types = {entry["type"] for entry in entries}
    assert {CONTAINER, RANDOM_PASSWORD, "docker:index/network:Network", "docker:index/volume:Volume",
            "brain:docker:Balancer", "brain:docker:BackendReplicaSet"} <= types
    by_name = {(entry["type"], entry["name"]): entry for entry in entries}
    assert by_name[(CONTAINER, "brain-nginx")]["parent"] == "brain:docker:Balancer::brain"
    assert by_name[("brain:docker:Balancer", "brain")]["parent"] is None, "top-level components sit under the stack"


def test_resources_json_has_integral_numbers_as_ints_and_sorted_keys(dev_render) -> None:
    out, _ = dev_render
    text = (out / "resources.json").read_text()
    floats = [value for value in walk(json.loads(text)) if isinstance(value, float) and value.is_integer()]
    assert not floats, f"integral numbers written as floats: {floats}"
    nginx = next(entry for entry in json.loads(text) if entry["name"] == "brain-nginx")
    assert nginx["inputs"]["ports"][0]["internal"] == 8000
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_nginx_conf_is_the_balancer_upload_exactly(dev_render) -> None:
    out, _ = dev_render
    uploads = reveal(run_program("dev").named("brain-nginx").inputs["uploads"])
    [conf] = [upload["content"] for upload in uploads if upload["file"] == "/etc/nginx/nginx.conf"]
    assert (out / "nginx.conf").read_text() == conf
    assert not (out / "manifests").exists(), "the dev stack has no Kubernetes objects"


def test_stdout_is_a_table_of_resources_by_type(dev_render) -> None:
    _, result = dev_render
    rows = {line.rsplit(maxsplit=1)[0]: line.rsplit(maxsplit=1)[1] for line in result.stdout.splitlines()[:-1]}
    # Containers: 3 replicas, nginx, 3 stores, and monitoring's Prometheus, nginx exporter and Grafana.
    assert rows[CONTAINER] == "10" and rows[RANDOM_PASSWORD] == "4" and rows["total"] == "36", result.stdout


def test_no_secret_value_reaches_any_file(dev_render) -> None:
    out, _ = dev_render
    passwords = [r.name for r in run_program("dev").resources if r.type == RANDOM_PASSWORD]
    secrets = [mock_secret_value(name) for name in passwords]
    assert len(secrets) == 4  # the three stores' credentials and Grafana's admin password
    for name, text in files_under(out).items():
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{name} contains the secret values {leaked}"
    assert SECRET_PLACEHOLDER in (out / "resources.json").read_text(), "secret inputs must show as [secret]"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("balancer.algorithm=least_connections", "balancer.algorithm"),
        ("balancer.fail_timeout=30x", "balancer.fail_timeout"),
        ("foo", "'foo'"),
        ("balancer.weights=[1,2", "balancer.weights"),
        ("balancer.color=blue", "balancer.color"),
        ("tagret=docker", "brain:tagret is not a known key; did you mean target?"),
        ("balancer=fast", "brain:balancer = 'fast': expected a mapping of keys"),
        ("balancer.read_timeout=10", "add one, such as 10s"),
    ],
)
def test_invalid_set_exits_2_naming_the_key_and_writes_nothing(tmp_path: Path, override: str, named: str) -> None:
    out = tmp_path / "render"
    result = render("--stack", "dev", "--out", str(out), "--set", override)
    assert result.returncode == 2, f"--set {override}: exit {result.returncode}\n{result.stderr}"
    assert named in result.stderr, f"stderr does not name {named}:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == [], f"files written on failure: {list(tmp_path.rglob('*'))}"


@pytest.mark.parametrize(
    ("stack_file", "message"),
    [
        (
            "config:\n  brain:target: docker\n  brain:balancer: {port: 8000\n",
            "Pulumi.broken.yaml is not valid YAML at line 4, column 1: expected ',' or '}'",
        ),
        ("config:\n\tbrain:target: docker\n", "Pulumi.broken.yaml is not valid YAML at line 2, column 1"),
        ("- config\n", "Pulumi.broken.yaml: expected a mapping with a `config:` mapping"),
        ("config: [brain:target]\n", "Pulumi.broken.yaml: expected a mapping with a `config:` mapping"),
    ],
    ids=["unclosed-mapping", "tab-indent", "a-list", "config-a-list"],
)
def test_a_broken_stack_file_exits_2_with_one_line(
    stack_file: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text(stack_file)
    monkeypatch.setattr(program, "ROOT", tmp_path)
    assert render_main(["--stack", "broken", "--out", str(tmp_path / "out")]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(message) and stderr.count("\n") == 1, stderr
    assert not (tmp_path / "out").exists()


def test_failed_render_leaves_an_existing_directory_untouched(tmp_path: Path, dev_render) -> None:
    out = tmp_path / "render"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "nginx.conf").write_text("an earlier render")
    before = files_under(out)
    result = render("--stack", "dev", "--out", str(out), "--set", "backend.replicas=0")
    assert result.returncode == 2 and "backend.replicas" in result.stderr, result.stderr
    assert files_under(out) == before


def test_render_replaces_earlier_artifacts_and_keeps_other_files(tmp_path: Path, dev_render) -> None:
    out = tmp_path / "render"
    (out / "manifests").mkdir(parents=True)
    (out / "manifests" / "deployment-brain-stale.yaml").write_text("kind: Deployment")
    (out / "nginx.conf").write_text("an earlier render")
    (out / "notes.txt").write_text("mine")
    result = render("--stack", "dev", "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = files_under(out)
    assert sorted(written) == [
        "monitoring/brain-load-distribution.json", "monitoring/brain-rules.yml", "monitoring/prometheus.yml",
        "nginx.conf", "notes.txt", "resources.json",
    ], "stale manifests must go"
    assert written["notes.txt"] == "mine"
    assert written["nginx.conf"] == (dev_render[0] / "nginx.conf").read_text()
    assert [path.name for path in tmp_path.iterdir()] == ["render"], "the staging directory must be gone"


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    """The SDK registers concurrently; the render's order must not depend on it, or every diff is noise."""
    for out in ("first", "second"):
        assert render("--stack", "dev", "--out", str(tmp_path / out), fresh_run=True).returncode == 0
    assert files_under(tmp_path / "first") == files_under(tmp_path / "second")


def test_set_overrides_reach_the_render(tmp_path: Path) -> None:
    out = tmp_path / "render"
    result = render("--stack", "dev", "--out", str(out), "--set", "backend.replicas=2",
                    "--set", "balancer.algorithm=ip_hash")
    assert result.returncode == 0, result.stderr
    conf = (out / "nginx.conf").read_text()
    assert "ip_hash;" in conf and "backend-2:8000" in conf and "backend-3:" not in conf


@pytest.mark.skipif(
    not (ROOT / "Pulumi.prod.yaml").is_file(), reason="the prod stack (Pulumi.prod.yaml, target eks) is not in this checkout yet"
)
@pytest.mark.parametrize("overrides", [[], ["--set", "data.mode=in_cluster"]], ids=["managed", "in_cluster"])
def test_prod_render_writes_one_manifest_per_kubernetes_object(tmp_path: Path, overrides: list[str]) -> None:
    out = tmp_path / "prod"
    result = render("--stack", "prod", "--out", str(out), *overrides)
    assert result.returncode == 0, f"prod render failed:\n{result.stderr[-3000:]}"
    entries = json.loads((out / "resources.json").read_text())
    kubernetes = [entry for entry in entries if entry["type"].startswith("kubernetes:")]
    manifests = {path.name: path for path in (out / "manifests").glob("*.yaml")}
    assert len(manifests) == len(kubernetes), f"{len(kubernetes)} Kubernetes resources but manifests {sorted(manifests)}"
    kinds = {name.split("-", 1)[0] for name in manifests}
    assert {"deployment", "virtualserver", "release", "horizontalpodautoscaler"} <= kinds, sorted(manifests)
    for name, path in manifests.items():
        documents = list(yaml_text.load_all(path.read_text()))
        assert len(documents) == 1 and isinstance(documents[0], dict), f"{name}: one object expected"
        required = (
            {"chart", "version", "namespace"} if name.startswith("release-")
            else {"file"} if name.startswith("configfile-")
            else {"apiVersion", "kind", "metadata"}
        )
        assert required <= documents[0].keys(), f"{name} lacks {required - documents[0].keys()}"
    assert not (out / "nginx.conf").exists(), "no container receives an nginx.conf on eks"
    secrets = [mock_secret_value(entry["name"]) for entry in entries if entry["type"] == RANDOM_PASSWORD]
    assert secrets, "the prod stack generates its data tier's passwords"
    for name, text in files_under(out).items():
        assert not [secret for secret in secrets if secret in text], f"{name} leaks a generated secret"

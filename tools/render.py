"""Offline render: what `pulumi up` would create for a stack, as files a reviewer can read and diff.

    python -m tools.render --stack dev --out build/dev [--set balancer.algorithm=least_conn ...]
    python -m tools.render --diff OLD_DIR NEW_DIR      # Markdown summary of what changed (tools/render_diff.py)

Runs the real program under Pulumi mocks (tools/program.py): no Pulumi CLI, Docker or cloud credentials.
Writes `resources.json`, `nginx.conf` (when a container receives one), `manifests/*.yaml` (Kubernetes
objects) and `monitoring/` (prometheus.yml, rules, dashboard JSON); prints a table of resources by type.
Invalid config or `--set`: exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import heapq
import json
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from components.config import ConfigError
from tools.manifests import manifest_files
from tools.program import RegisteredResource, known_stacks, reviewable, run_program, stack_config
from tools.render_diff import main as diff_main
from tools.render_layout import ARTIFACTS, MANIFESTS_DIR, MONITORING_DIR, NGINX_CONF_FILE, RESOURCES_FILE

CONTAINER_TYPE = "docker:index/container:Container"
CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
MONITORED_UPLOAD_DIRS = ("/etc/prometheus/", "/etc/grafana/dashboards/")
NGINX_CONF_PATH = "/etc/nginx/nginx.conf"
INVALID_INPUT = 2


def registration_order(resources: Sequence[RegisteredResource]) -> list[RegisteredResource]:
    """A stable order the engine could register the resources in: each after its parent and dependencies,
    ties by name and type. (The SDK registers concurrently, so the recorded order varies from run to run.)"""
    by_urn = {resource.urn: resource for resource in resources}
    waiting_on = {
        resource.urn: {urn for urn in (resource.parent, *resource.depends_on) if urn in by_urn} for resource in resources
    }
    dependents: dict[str, list[str]] = defaultdict(list)
    for urn, needs in waiting_on.items():
        for need in needs:
            dependents[need].append(urn)
    ready = [(resource.name, resource.type, resource.urn) for resource in resources if not waiting_on[resource.urn]]
    heapq.heapify(ready)
    ordered: list[RegisteredResource] = []
    while ready:
        *_, urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting_on[dependent].discard(urn)
            if not waiting_on[dependent]:
                heapq.heappush(ready, (by_urn[dependent].name, by_urn[dependent].type, dependent))
    return ordered


def resource_entries(resources: Sequence[RegisteredResource]) -> list[dict[str, Any]]:
    """resources.json: `registration_order`; `parent` as the parent's `type::name` (None under the stack)."""
    parents = {resource.urn: f"{resource.type}::{resource.name}" for resource in resources}
    return [
        {
            "type": resource.type,
            "name": resource.name,
            "parent": parents.get(resource.parent) if resource.parent else None,
            "inputs": reviewable(resource.inputs),
            # Only where set: input paths whose later changes the engine ignores (the diff leaves them out).
            **({"ignore_changes": resource.ignore_changes} if resource.ignore_changes else {}),
        }
        for resource in registration_order(resources)
    ]


def nginx_conf(entries: Sequence[dict[str, Any]]) -> str | None:
    """The nginx.conf a container receives as upload content, or None when no container gets one."""
    contents = [
        upload["content"]
        for entry in entries
        if entry["type"] == CONTAINER_TYPE
        for upload in entry["inputs"].get("uploads") or []
        if isinstance(upload, dict) and upload.get("file") == NGINX_CONF_PATH
    ]
    if len(contents) > 1:
        raise ValueError(f"{len(contents)} containers receive {NGINX_CONF_PATH}; the render shows one")
    return contents[0] if contents else None


def monitoring_files(entries: Sequence[dict[str, Any]]) -> dict[str, str]:
    """prometheus.yml, the rules file and the dashboard JSON, by file name, as the stack deploys them: uploaded
    into the monitoring containers (docker), or in the Prometheus ConfigMap and Grafana's release values (eks)."""
    files: dict[str, str] = {}
    for entry in entries:
        inputs = entry["inputs"]
        if entry["type"] == CONTAINER_TYPE:
            for upload in inputs.get("uploads") or []:
                if isinstance(upload, dict) and upload.get("file", "").startswith(MONITORED_UPLOAD_DIRS):
                    files[PurePosixPath(upload["file"]).name] = upload["content"]
        elif entry["type"] == CONFIG_MAP_TYPE and "prometheus.yml" in (inputs.get("data") or {}):
            files.update(inputs["data"])
        elif entry["type"] == HELM_RELEASE_TYPE:
            for dashboards in (inputs.get("values", {}).get("dashboards") or {}).values():
                files.update({f"{name}.json": dashboard["json"] for name, dashboard in dashboards.items()})
    return files


def render_files(resources: Sequence[RegisteredResource]) -> dict[str, str]:
    """Relative path -> text of every file a render writes."""
    entries = resource_entries(resources)
    files = {RESOURCES_FILE: json.dumps(entries, indent=2, sort_keys=True, ensure_ascii=False) + "\n"}
    conf = nginx_conf(entries)
    if conf is not None:
        files[NGINX_CONF_FILE] = conf
    files.update({f"{MANIFESTS_DIR}/{name}": text for name, text in manifest_files(resources).items()})
    files.update({f"{MONITORING_DIR}/{name}": text for name, text in monitoring_files(entries).items()})
    return files


def write_render(out: Path, files: dict[str, str]) -> None:
    """Write into a staging directory beside `out`, then move into place: replaces a previous render's
    artifacts (so none goes stale) and leaves every other file in `out` alone."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if not out.exists():
            staging.rename(out)
            return
        for artifact in ARTIFACTS:
            old = out / artifact
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink(missing_ok=True)
        for new in staging.iterdir():
            new.rename(out / new.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def type_table(resources: Sequence[RegisteredResource]) -> str:
    """A short table of resources by type, for the terminal."""
    counts = Counter(resource.type for resource in resources)
    width = max([len("TYPE"), *map(len, counts)])
    rows = [f"{'TYPE':<{width}}  COUNT"]
    rows += [f"{type_:<{width}}  {count:>5}" for type_, count in sorted(counts.items())]
    rows.append(f"{'total':<{width}}  {sum(counts.values()):>5}")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.render", description="Offline render of a stack, or the diff of two renders."
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stack", choices=known_stacks(), help="render this stack (Pulumi.<stack>.yaml)")
    mode.add_argument("--diff", nargs=2, type=Path, metavar=("OLD_DIR", "NEW_DIR"), help="summarise two renders")
    parser.add_argument("--out", type=Path, help="with --stack: the output directory")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one brain: key by dotted path, VALUE parsed as YAML (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.diff:
        if args.out or args.overrides:
            parser.error("--diff compares two finished renders; --out and --set go with --stack")
        return diff_main(*args.diff)
    if args.out is None:
        parser.error("--stack needs --out DIR")
    if args.out.exists() and not args.out.is_dir():
        print(f"--out {args.out}: exists and is not a directory", file=sys.stderr)
        return INVALID_INPUT
    try:
        config = stack_config(args.stack, args.overrides)
    except ValueError as malformed:
        print(malformed, file=sys.stderr)
        return INVALID_INPUT
    try:
        resources = run_program(args.stack, config=config).resources
    except ConfigError as invalid:
        print(f"invalid config for stack {args.stack}:", *invalid.problems, sep="\n", file=sys.stderr)
        return INVALID_INPUT
    write_render(args.out, render_files(resources))
    print(type_table(resources))
    print(f"rendered stack {args.stack} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

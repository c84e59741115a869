"""What changed between two offline renders, as Markdown short enough for a pull request comment.

`python -m tools.render --diff OLD_DIR NEW_DIR`: resources added, removed and changed (with the input paths
that changed), the nginx.conf diff, the manifest diffs and the monitoring files' diffs. "No changes." when
the renders are the same.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.render_layout import MANIFESTS_DIR, MONITORING_DIR, NGINX_CONF_FILE, RESOURCES_FILE

NO_CHANGES = "No changes."
MAX_DIFF_LINES = 150
"""Lines of one diff block; a longer diff is cut with a note."""
MAX_LINE_CHARS = 300
"""Characters of one diff line; a longer line is cut with an ellipsis."""
MAX_LISTED = 50
"""Resources listed per kind of change (added, removed, changed)."""
MAX_PATHS = 10
"""Changed input paths listed per resource."""
COMMENT_BUDGET = 60_000
"""Characters of the whole summary: GitHub refuses comments over 65,536."""
SHORT_VALUE = 40
"""Values up to this length are shown next to their path (`old` -> `new`)."""
SEE_ALL = "run `python -m tools.render --diff OLD NEW` locally to see everything"

ResourceKey = tuple[str, str, str | None]
"""(type, name, parent): the parts of a resource's URN, so a change of parent is a replacement."""


class _Missing:
    """The value of a path that exists on one side only."""


MISSING = _Missing()


@dataclass(frozen=True)
class Render:
    """One render directory, read back."""

    resources: dict[ResourceKey, dict[str, Any]]
    nginx_conf: str | None
    manifests: dict[str, str]
    monitoring: dict[str, str] = field(default_factory=dict)


def load_render(directory: Path) -> Render:
    """Read a directory written by `python -m tools.render`; ValueError when it is not one."""
    resources_file = directory / RESOURCES_FILE
    if not resources_file.is_file():
        raise ValueError(f"{directory}: not a render (no {RESOURCES_FILE}); render it with python -m tools.render")
    try:
        entries = json.loads(resources_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{resources_file}: not JSON ({error})") from None
    conf = directory / NGINX_CONF_FILE
    manifests = directory / MANIFESTS_DIR
    return Render(
        resources={(entry["type"], entry["name"], entry["parent"]): entry for entry in entries},
        nginx_conf=conf.read_text(encoding="utf-8") if conf.is_file() else None,
        manifests={path.name: path.read_text(encoding="utf-8") for path in sorted(manifests.glob("*.yaml"))},
        monitoring={
            path.name: path.read_text(encoding="utf-8") for path in sorted((directory / MONITORING_DIR).glob("*"))
        },
    )


def changed_paths(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old value, new value) of every leaf that differs; MISSING where one side lacks the path."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            change
            for key in sorted(old.keys() | new.keys())
            for change in changed_paths(old.get(key, MISSING), new.get(key, MISSING), f"{path}{_key(key)}")
        ]
    if isinstance(old, list) and isinstance(new, list):
        return [
            change
            for index in range(max(len(old), len(new)))
            for change in changed_paths(
                old[index] if index < len(old) else MISSING,
                new[index] if index < len(new) else MISSING,
                f"{path}[{index}]",
            )
        ]
    return [(path, old, new)]


def summary(old: Render, new: Render) -> str:
    """The Markdown summary; NO_CHANGES when the renders are the same."""
    sections = [
        section
        for section in (
            _resources_section(old, new),
            _text_section("nginx.conf", {NGINX_CONF_FILE: old.nginx_conf}, {NGINX_CONF_FILE: new.nginx_conf}),
            _text_section(
                "Kubernetes manifests",
                {f"{MANIFESTS_DIR}/{name}": text for name, text in old.manifests.items()},
                {f"{MANIFESTS_DIR}/{name}": text for name, text in new.manifests.items()},
            ),
            _text_section(
                "Monitoring",
                {f"{MONITORING_DIR}/{name}": text for name, text in old.monitoring.items()},
                {f"{MONITORING_DIR}/{name}": text for name, text in new.monitoring.items()},
            ),
        )
        if section
    ]
    if not sections:
        return NO_CHANGES
    kept: list[str] = []
    for section in sections:
        if sum(map(len, kept)) + len(section) > COMMENT_BUDGET:
            kept.append(f"_More changes than a comment can hold: {SEE_ALL}._")
            break
        kept.append(section)
    return "\n\n".join(kept)


def _resources_section(old: Render, new: Render) -> str:
    added = [key for key in new.resources if key not in old.resources]
    removed = [key for key in old.resources if key not in new.resources]
    changed = {
        key: paths
        for key in new.resources
        if key in old.resources
        and (paths := _applied(new.resources[key], changed_paths(old.resources[key]["inputs"], new.resources[key]["inputs"], "inputs")))
    }
    if not (added or removed or changed):
        return ""
    lines = [
        f"**Resources**: {len(added)} added, {len(removed)} removed, {len(changed)} changed "
        f"({len(new.resources)} in the new render)."
    ]
    # A resource that moved to another parent is removed and added under a new URN: say where, for those.
    moved = {key[:2] for key in added} & {key[:2] for key in removed}
    for title, keys in (("Added", added), ("Removed", removed)):
        if keys:
            items = [f"- {_resource(key, with_parent=key[:2] in moved)}" for key in keys]
            lines += ["", f"{title}:", *_capped(items, MAX_LISTED, "resources")]
    if changed:
        items = [
            f"- {_resource(key, with_parent=False)}: " + ", ".join(_capped([_change(*change) for change in paths], MAX_PATHS, "paths"))
            for key, paths in changed.items()
        ]
        lines += ["", "Changed:", *_capped(items, MAX_LISTED, "resources")]
    return "\n".join(lines)


def _applied(entry: dict[str, Any], paths: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """The changed paths the engine acts on: those under the resource's `ignore_changes` it leaves alone."""
    ignored = [f"inputs.{path}" for path in entry.get("ignore_changes", [])]
    return [
        change
        for change in paths
        if not any(change[0] == prefix or change[0].startswith((f"{prefix}.", f"{prefix}[")) for prefix in ignored)
    ]


def _text_section(title: str, old: dict[str, str | None], new: dict[str, str | None]) -> str:
    """One ```diff block over every file of a kind (nginx.conf, manifests) that differs."""
    names = sorted(old.keys() | new.keys())
    diff: list[str] = []
    counts = {"added": 0, "removed": 0, "changed": 0}
    for name in names:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        counts["added" if before is None else "removed" if after is None else "changed"] += 1
        diff += difflib.unified_diff(
            (before or "").splitlines(),
            (after or "").splitlines(),
            fromfile="/dev/null" if before is None else f"old/{name}",
            tofile="/dev/null" if after is None else f"new/{name}",
            lineterm="",
        )
    if not diff:
        return ""
    tally = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    heading = f"**{title}**" + (f": {tally}." if len(names) > 1 else "")
    lines = [line if len(line) <= MAX_LINE_CHARS else f"{line[:MAX_LINE_CHARS]}…" for line in diff]
    return f"{heading}\n\n{_fenced(_capped(lines, MAX_DIFF_LINES, 'lines'), 'diff')}"


def _capped(lines: list[str], limit: int, what: str) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"… {len(lines) - limit} more {what}: {SEE_ALL}"]


def _fenced(lines: list[str], info: str) -> str:
    """A Markdown code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([f"{fence}{info}", *lines, fence])


def _resource(key: ResourceKey, with_parent: bool) -> str:
    type_, name, parent = key
    return f"`{type_}` **{name}**" + (f" (parent `{parent}`)" if with_parent else "")


def _change(path: str, old: Any, new: Any) -> str:
    before, after = _short(old), _short(new)
    return f"`{path}`" + (f" ({before} → {after})" if before and after else "")


def _short(value: Any) -> str | None:
    """A value worth printing inline, or None when it is long, nested or multi-line."""
    if value is MISSING:
        return "none"
    if isinstance(value, (dict, list)):
        return None
    text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`" if len(text) <= SHORT_VALUE and "`" not in text else None


def _key(key: str) -> str:
    return f".{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", key) else f"[{json.dumps(key)}]"


def main(old_dir: Path, new_dir: Path) -> int:
    """Print the summary of two render directories; exit status 2 when either is not a render."""
    try:
        old, new = load_render(old_dir), load_render(new_dir)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(summary(old, new))
    return 0


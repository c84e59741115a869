"""The import arrows between the project's modules: no cycles, and the pure renderer depends on nothing above it."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

from tools.program import ROOT

PACKAGES = ("backend", "bench", "components", "nginx_conf", "tools", "tests")
RENDERER = "nginx_conf"
ABOVE_THE_RENDERER = ("components", "tools", "tests", "bench", "backend", "pulumi", "pulumi_docker", "pydantic")
"""The Pulumi layer, its config model and the tools that run it: nginx_conf is rendered from plain values."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _imported(path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """Every module `path` imports, anywhere in the file (a deferred import is still an arrow)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])])
            for alias in node.names:
                # `from package import module` names a module; `from module import name` the module itself.
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base


@functools.cache  # read-only for the tests below: parsing every file once is 0.3 s
def _import_graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: set(_imported(path, modules)) - {name} for name, path in modules.items()}


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle through `start`, as the list of modules along it, or None."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, trail = stack.pop()
        for imported in sorted(graph.get(module, ())):
            if imported == start:
                return [*trail, start]
            if imported in graph and imported not in seen:
                seen.add(imported)
                stack.append((imported, [*trail, imported]))
    return None


def test_no_project_module_imports_itself_through_others() -> None:
    graph = _import_graph()
    cycles = [" -> ".join(cycle) for module in sorted(graph) if (cycle := _cycle_from(module, graph))]
    assert not cycles, "import cycles (move the shared piece into a module both import):\n" + "\n".join(cycles)


def test_the_renderer_imports_nothing_above_it() -> None:
    graph = _import_graph()
    upward = {
        module: sorted(imported for imported in imports if imported.split(".")[0] in ABOVE_THE_RENDERER)
        for module, imports in graph.items()
        if module.split(".")[0] == RENDERER
    }
    assert not any(upward.values()), f"nginx_conf must stay a pure renderer of its own model; it imports {upward}"


def test_the_graph_sees_the_imports_it_checks() -> None:
    """Guards the two tests above against passing vacuously on a parser that finds nothing."""
    graph = _import_graph()
    assert "tools.render_layout" in graph["tools.render_diff"], graph["tools.render_diff"]
    assert "nginx_conf.render" in graph["nginx_conf"], graph["nginx_conf"]

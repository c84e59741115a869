"""A Helm chart's `values.schema.json` with its remote Kubernetes `$ref`s bundled in, so Helm validates offline.

The F5 ingress chart's schema `$ref`s `https://raw.githubusercontent.com/nginxinc/kubernetes-json-schema/.../
_definitions.json#/definitions/...`, which Helm fetches at every install and upgrade (nginx/kubernetes-ingress
#10667: 429s from GitHub, air-gapped installs fail). Each such `$ref` becomes `#/$defs/...`, and the root `$defs`
gets every definition they reach, from kubernetes-validate's strict definitions of the same minor version
(unknown fields inside a Kubernetes object in the values are refused too).

    python -m tools.chart_schema vendor/charts/nginx-ingress-2.6.4/values.schema.json \
        charts/nginx-ingress/values.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tools.manifest_schemas import REMOTE_KUBERNETES_DEFINITIONS, refs, strict_definitions


class UnbundleableRef(ValueError):
    """A `$ref` to a document other than a kubernetes-json-schema `_definitions.json`."""


def bundle(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every remote `$ref` local, and the definitions they reach under `$defs`."""
    versions: set[str] = set()

    def local(node: Any) -> Any:
        if isinstance(node, list):
            return [local(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            document, _, pointer = ref.partition("#")
            match = REMOTE_KUBERNETES_DEFINITIONS.fullmatch(document)
            if match is None or not pointer.startswith("/definitions/"):
                raise UnbundleableRef(f"$ref {ref!r}: not a kubernetes-json-schema definition, cannot be bundled")
            versions.add(match.group(1))
            node = {**node, "$ref": "#/$defs/" + pointer.removeprefix("/definitions/")}
        return {key: local(value) for key, value in node.items()}

    if "$defs" in schema:
        raise UnbundleableRef("the schema has $defs of its own; merging them is not supported")
    bundled = local(schema)
    if len(versions) > 1:
        raise UnbundleableRef(f"$refs to more than one Kubernetes version: {sorted(versions)}")
    if versions:
        bundled["$defs"] = _reached(bundled, strict_definitions(versions.pop())["$defs"])
    return bundled


def _reached(schema: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions `schema` refers to, and those they refer to, by name."""
    reached: dict[str, Any] = {}
    waiting = _definition_names(schema)
    while waiting:
        name = waiting.pop()
        if name not in reached:
            reached[name] = definitions[name]
            waiting.extend(_definition_names(definitions[name]))
    return dict(sorted(reached.items()))


def _definition_names(schema: Any) -> list[str]:
    """X of every `"$ref": "#/$defs/X[/...]"` in `schema`."""
    return [ref.removeprefix("#/$defs/").split("/")[0] for ref in refs(schema) if ref.startswith("#/$defs/")]


def render(schema: dict[str, Any]) -> str:
    """The bundled schema as the file holds it: stable key order from the input, two-space indents."""
    return json.dumps(bundle(schema), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.chart_schema SOURCE_SCHEMA OUTPUT_SCHEMA", file=sys.stderr)
        return 2
    source, output = (Path(arg) for arg in args)
    try:
        text = render(json.loads(source.read_text()))
    except UnbundleableRef as error:
        print(f"{source}: {error}", file=sys.stderr)
        return 1
    output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

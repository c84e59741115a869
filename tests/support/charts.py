"""The pinned charts as vendored in `vendor/charts/` (Helm itself is not available here): their values and the
labels Qdrant's templates give its pods. Helm's merge of ours over them is `tools.manifest_schemas.coalesced`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tools import yaml_text

ROOT = Path(__file__).resolve().parents[2]
VENDORED_CHARTS = ROOT / "vendor" / "charts"


def chart_dir(chart: str, version: str) -> Path:
    path = VENDORED_CHARTS / f"{chart}-{version}"
    assert path.is_dir(), f"{chart} chart {version} is not vendored in {VENDORED_CHARTS}: vendor it with its SOURCE.md"
    return path


def chart_values(chart: str, version: str) -> dict[str, Any]:
    return yaml_text.load((chart_dir(chart, version) / "values.yaml").read_text())


def selector_labels(chart: str, version: str, release: str, values: dict[str, Any]) -> dict[str, str]:
    """The labels `<chart>.selectorLabels` in the chart's `_helpers.tpl` gives every pod of the release: each
    line `key: {{ include "<chart>.name" . }}` or `key: {{ .Release.Name }}` evaluated as Helm would."""
    helpers = (chart_dir(chart, version) / "templates" / "_helpers.tpl").read_text()
    block = re.search(r'\{\{-? define "' + re.escape(chart) + r'\.selectorLabels" -?\}\}(.*?)\{\{-? end', helpers, re.S)
    assert block, f"{chart} {version}: no {chart}.selectorLabels in _helpers.tpl"
    name = values.get("nameOverride") or yaml_text.load((chart_dir(chart, version) / "Chart.yaml").read_text())["name"]
    expressions = {f'{{{{ include "{chart}.name" . }}}}': name, "{{ .Release.Name }}": release}
    labels = {}
    for line in filter(None, (line.strip() for line in block.group(1).splitlines())):
        key, _, template = line.partition(": ")
        assert template in expressions, f"{chart} {version}: selector label {line!r} is not one this reader knows"
        labels[key] = expressions[template]
    return labels

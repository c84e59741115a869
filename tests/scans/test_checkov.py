"""checkov on every Kubernetes object of the prod renders: each failed check must be listed, with its reason, in
checkov_accepted.yaml beside this file; a new failure fails the test, and so does a listed one that passes now
(the list says what is still open, never what once was). Helm releases are not rendered into objects here
(no helm binary): checkov sees the objects this program writes itself.

checkov runs from its own venv (`make checkov-venv`: its pins conflict with the Pulumi SDKs'): `$CHECKOV`, else
`.venv-checkov/bin/checkov`, else `checkov` on PATH; missing, the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.processes import require_binary
from tests.support.prod_renders import VARIANTS, render_prod
from tools.program import ROOT
from tools import yaml_text

ACCEPTED_FILE = Path(__file__).with_name("checkov_accepted.yaml")
CHECKOV_TIMEOUT_SECONDS = 300


def _accepted() -> dict[tuple[str, str], str]:
    entries = yaml_text.load(ACCEPTED_FILE.read_text()) or []
    accepted = {(entry["check"], entry["resource"]): str(entry.get("reason") or "").strip() for entry in entries}
    assert len(accepted) == len(entries), f"{ACCEPTED_FILE.name} lists a check and resource twice"
    return accepted


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's JSON report on one directory holding every object of every prod variant."""
    checkov = os.environ.get("CHECKOV") or require_binary("checkov", ROOT / ".venv-checkov" / "bin" / "checkov")
    directory = tmp_path_factory.mktemp("manifests")
    # Each distinct object once: the variants share most objects, and checkov names a finding by the object
    # (kind.namespace.name), not by the file, so a second identical copy only doubles the scan.
    written: set[str] = set()
    for variant in VARIANTS:
        for name, document in render_prod(variant).documents.items():
            text = yaml.safe_dump(document)
            if "apiVersion" in document and text not in written:  # Kubernetes objects; not Helm releases nor ConfigFiles
                written.add(text)
                (directory / f"{variant}-{name}").write_text(text)
    result = subprocess.run(
        # --skip-download: no guideline or policy download from the vendor's API (tests run offline).
        [checkov, "--directory", str(directory), "--framework", "kubernetes", "--output", "json", "--compact",
         "--quiet", "--skip-download"],
        capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_SECONDS, check=False,
    )
    assert result.returncode in (0, 1), f"checkov failed to run ({result.returncode}):\n{result.stderr[-3000:]}"
    parsed = json.loads(result.stdout)
    assert parsed["summary"]["parsing_errors"] == 0, f"checkov could not parse every manifest: {parsed['summary']}"
    assert parsed["summary"]["resource_count"] >= len(list(directory.iterdir())), parsed["summary"]
    return parsed


def _failures(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(check["check_id"], check["resource"]): check["check_name"] for check in report["results"]["failed_checks"]}


def test_every_failed_check_is_listed_with_its_reason(report: dict[str, Any]) -> None:
    new = {key: name for key, name in _failures(report).items() if key not in _accepted()}
    assert not new, (
        f"checkov failures not in {ACCEPTED_FILE.name} (fix them, or list them with the reason they stay):\n"
        + "\n".join(f"  {check} {resource}: {name}" for (check, resource), name in sorted(new.items()))
    )


def test_every_listed_check_still_fails(report: dict[str, Any]) -> None:
    stale = sorted(set(_accepted()) - set(_failures(report)))
    assert not stale, f"these pass now: remove them from {ACCEPTED_FILE.name}:\n" + "\n".join(map(str, stale))


def test_every_listed_check_has_a_reason() -> None:
    missing = [key for key, reason in _accepted().items() if not reason]
    assert not missing, f"{ACCEPTED_FILE.name}: entries without a reason: {missing}"

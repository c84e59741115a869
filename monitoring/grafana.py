"""Grafana provisioning: the Prometheus data source and the file provider that loads our dashboard."""

from __future__ import annotations

from typing import Any

import yaml

from monitoring.dashboard import DATASOURCE_UID

DASHBOARD_FOLDER = "BRAiN"


def datasource(prometheus_url: str) -> dict[str, Any]:
    """The data source every panel refers to (by its uid), as provisioning and the Grafana chart take it."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
            }
        ],
    }


def dashboard_provider(path: str) -> dict[str, Any]:
    """Loads every dashboard JSON under `path`; edits in the UI are not kept (the code is the source)."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "brain",
                "folder": DASHBOARD_FOLDER,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "options": {"path": path},
            }
        ],
    }


def as_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False)

"""The backend's environment: defaults, one clear message per bad variable, credentials kept out of repr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backend.settings import Settings, SettingsError
from tests.support.processes import BACKEND_ENV_KEYS, REPO_ROOT


def test_defaults_serve_on_port_8000_on_all_interfaces_with_no_dependencies() -> None:
    settings = Settings.from_env({"INSTANCE_ID": "backend-1"})
    assert (settings.instance_id, settings.host, settings.port) == ("backend-1", "0.0.0.0", 8000)
    assert (settings.database_url, settings.redis_url, settings.qdrant_url) == (None, None, None)
    assert (settings.drain_seconds, settings.response_delay_ms, settings.access_log) == (0, 0, True)
    assert settings.max_concurrency is None, "no cap on concurrent requests unless MAX_CONCURRENCY is set"


def test_empty_values_mean_not_configured() -> None:
    settings = Settings.from_env({"REDIS_URL": "", "DATABASE_URL": "  ", "QDRANT_API_KEY": ""})
    assert (settings.redis_url, settings.database_url, settings.qdrant_api_key) == (None, None, None)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("PORT", "eighty", "an integer from 1 to 65535"),
        ("PORT", "70000", "an integer from 1 to 65535"),
        ("INSTANCE_NUMBER", "0", "a positive integer"),
        ("DRAIN_SECONDS", "-1", "a number >= 0"),
        ("RESPONSE_DELAY_MS", "nan", "a number >= 0"),
        ("ACCESS_LOG", "maybe", "1/true/yes/on or 0/false/no/off"),
        ("MAX_CONCURRENCY", "0", "a positive integer"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_allowed(key: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({key: value})
    assert str(error.value) == f"{key}={value!r} is not valid: expected {allowed}"


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"PORT": "x", "DRAIN_SECONDS": "y"})
    assert [line.split("=")[0] for line in str(error.value).splitlines()] == ["PORT", "DRAIN_SECONDS"]


def test_credentials_stay_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u:pg-secret@db/x", "REDIS_URL": "redis://:redis-secret@r", "QDRANT_API_KEY": "q-secret"}
    )
    assert "secret" not in repr(settings), repr(settings)


def test_python_m_backend_exits_2_with_the_message_on_bad_env() -> None:
    env = {key: value for key, value in os.environ.items() if key not in BACKEND_ENV_KEYS}
    result = subprocess.run(
        [sys.executable, "-m", "backend"],
        cwd=REPO_ROOT,
        env={**env, "PORT": "http"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result
    assert "PORT='http' is not valid: expected an integer from 1 to 65535" in result.stderr, result.stderr

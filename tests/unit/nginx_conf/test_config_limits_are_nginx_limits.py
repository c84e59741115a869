"""The config's limits on nginx times and sizes are the real nginx's: the largest value the config takes passes
`nginx -t`, and the next one, which the config refuses, nginx refuses too (so no limit is stricter than needed).
Non-ASCII digits, which Python's `\\d` and `int()` take, are refused by both."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import BalancerConfig, ConfigError, parse_stack_config
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from tests.support.nginx import NginxConfigRejected, nginx_test, nginx_version

# (key, the largest value the config takes, the next value, which it refuses)
EDGES = [
    ("read_timeout", "9223372036854775807ms", "9223372036854775808ms"),
    ("send_timeout", "9223372036854775s", "9223372036854776s"),
    ("connect_timeout", "106751991167d", "106751991168d"),
    ("websocket_timeout", "2562047788015h", "2562047788016h"),
    ("client_max_body_size", "8589934591g", "8589934592g"),
    ("client_max_body_size", "9223372036854775807", "9223372036854775808"),
]
NOT_ASCII = [("read_timeout", "３０s"), ("fail_timeout", "٣٠s"), ("client_max_body_size", "１０m")]


def nginx_conf(key: str, value: str, directory: Path) -> str:
    """The rendering of a balancer with `key` set to `value`, whether or not the config would take it."""
    balancer = BalancerConfig.model_construct(**{key: value})  # no validation: nginx is the judge here
    runtime = NginxRuntime.for_directory(directory, nginx_version())
    return render_nginx_conf(nginx_settings(balancer), [UpstreamServer("127.0.0.1", 8001)], runtime)


def refusal(key: str, value: str) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"target": "docker", "balancer": {key: value}})
    return str(raised.value)


@pytest.mark.parametrize(("key", "largest", "next_value"), EDGES, ids=[f"{e[0]}={e[1]}" for e in EDGES])
def test_the_largest_value_the_config_takes_is_the_largest_nginx_takes(
    key: str, largest: str, next_value: str, tmp_path: Path
) -> None:
    assert getattr(parse_stack_config({"target": "docker", "balancer": {key: largest}}).balancer, key) == largest
    nginx_test(nginx_conf(key, largest, tmp_path / "largest"), tmp_path / "largest")
    assert "nginx's limit" in refusal(key, next_value)
    with pytest.raises(NginxConfigRejected, match="invalid value"):
        nginx_test(nginx_conf(key, next_value, tmp_path / "next"), tmp_path / "next")


@pytest.mark.parametrize(("key", "value"), NOT_ASCII, ids=[f"{key}={value}" for key, value in NOT_ASCII])
def test_digits_other_than_ascii_are_refused_as_nginx_refuses_them(key: str, value: str, tmp_path: Path) -> None:
    assert f"brain:balancer.{key} = {value!r}" in refusal(key, value)
    with pytest.raises(NginxConfigRejected, match="invalid"):
        nginx_test(nginx_conf(key, value, tmp_path), tmp_path)


def test_fail_timeout_is_held_to_the_same_limit_although_nginx_would_take_more(tmp_path: Path) -> None:
    """nginx counts `fail_timeout` in seconds, not milliseconds, so it would take up to 2^63-1 s; one limit for
    every time keeps the rule simple, and 292 million years is long enough for a failed replica to stay out."""
    assert "nginx's limit" in refusal("fail_timeout", "9223372036854776s")
    nginx_test(nginx_conf("fail_timeout", "9223372036854776s", tmp_path), tmp_path)

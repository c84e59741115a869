"""A test process can run the rendering for real: `NginxRuntime.for_directory` plus `running_nginx` on loopback.

No replica is started: what is checked is nginx's own side (status page, body buffering, size limit, the log).
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from components.config import BalancerConfig
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from tests.support.nginx import NginxProcess, nginx_version, running_nginx
from tests.support.processes import LOOPBACK, free_port, wait_until

pytestmark = pytest.mark.live

BODY_LIMIT = "64k"


@pytest.fixture
def nginx(tmp_path: Path):
    balancer = BalancerConfig(port=free_port(), client_max_body_size=BODY_LIMIT, fail_timeout="1s")
    absent_replica = UpstreamServer(LOOPBACK, free_port())
    conf = render_nginx_conf(nginx_settings(balancer), [absent_replica], NginxRuntime.for_directory(tmp_path, nginx_version()))
    with running_nginx(conf, tmp_path, balancer.port) as process:
        yield process


def request(nginx: NginxProcess, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection(nginx.host, nginx.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_status_page_answers_loopback(nginx: NginxProcess):
    status, text = request(nginx, "GET", "/nginx_status")
    assert status == 200 and text.startswith("Active connections:"), (status, text)


def test_a_body_larger_than_the_memory_buffer_is_spooled_to_the_temp_directory(nginx: NginxProcess):
    # 40 KiB: over nginx's 16k in-memory body buffer, under the 64k limit. Buffering works (the workers can
    # write their temp directory), so the answer is the 502 of an absent replica, not a 500.
    status, _ = request(nginx, "POST", "/api/upload", body=b"x" * 40_960)
    assert status == 502, f"expected 502 (no replica), got {status}; nginx said:\n{nginx.error_log()}"


def test_a_body_over_the_limit_gets_413(nginx: NginxProcess):
    status, _ = request(nginx, "POST", "/api/upload", body=b"x" * 70_000)
    assert status == 413


def test_access_log_lines_are_json_with_the_callers_request_id(nginx: NginxProcess):
    request(nginx, "GET", "/api/agents/info", headers={"X-Request-ID": "trace-42"})
    request(nginx, "GET", "/api/agents/info")
    # nginx logs a request after the last byte of its response has gone out: wait for both lines.
    logged = wait_until(lambda: _logged_requests(nginx, 2), 5, "two lines in access.log")
    lines = [json.loads(line) for line in logged]
    assert lines[0]["request_id"] == "trace-42"
    assert len(lines[1]["request_id"]) == 32, lines[1]
    assert [line["status"] for line in lines] == [502, 502]


def _logged_requests(nginx: NginxProcess, count: int) -> list[str] | None:
    lines = (nginx.directory / "access.log").read_text().splitlines()
    return lines if len(lines) >= count else None


def test_nginx_logs_nothing_alarming_at_start(nginx: NginxProcess):
    """E.g. no failed setrlimit: worker_rlimit_nofile stays within this process's descriptor limit."""
    request(nginx, "GET", "/nginx_status")
    alarming = [line for line in nginx.error_log().splitlines() if any(f"[{level}]" in line for level in (
        "alert", "crit", "emerg"))]
    assert not alarming, "\n".join(alarming)

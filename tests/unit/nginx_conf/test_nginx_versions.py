"""Every nginx version the renderer distinguishes gets its dev-stack nginx.conf checked by the real nginx here
(`nginx -t`), and docs/nginx-versions.md names exactly the lines that nginx could not parse.

The renderer knows versions by their boundaries: OLDEST_NGINX (the oldest it renders for), the last version
before RESOLVE_SINCE (no `resolve`), RESOLVE_SINCE itself, and the default image's version. A rendering for a
version newer than the installed nginx is checked with the newer-only lines taken out; those lines are the
ones docs/nginx-versions.md lists as never parsed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.config import OLDEST_NGINX, BalancerConfig, NetworkConfig
from components.docker.balancer import DOCKER_DNS, OPEN_FILES
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from nginx_conf.render import RESOLVE_SINCE
from tests.support.nginx import DOCKER_REPLICA, docker_conf_for_this_machine, nginx_test, nginx_version

DOCS = Path(__file__).resolve().parents[3] / "docs" / "nginx-versions.md"
DEFAULT_IMAGE_VERSION = BalancerConfig().nginx_version
KNOWN_VERSIONS = sorted({OLDEST_NGINX, (*RESOLVE_SINCE[:2], RESOLVE_SINCE[2] - 1), RESOLVE_SINCE, DEFAULT_IMAGE_VERSION})


def dev_rendering(version: tuple[int, int, int]) -> str:
    """The dev stack's default nginx.conf (three replicas by container name) for an nginx of `version`."""
    runtime = NginxRuntime(version=version, resolver=DOCKER_DNS, max_open_files=OPEN_FILES,
                           internal_networks=(NetworkConfig().subnet,))
    servers = [UpstreamServer(f"backend-{number}", 8000) for number in (1, 2, 3)]
    return render_nginx_conf(nginx_settings(BalancerConfig()), servers, runtime)


def unparsed_here(rendering: str) -> list[str]:
    """The lines of `rendering` that the mapping for this machine changed beyond names and the user."""
    mapped = set(docker_conf_for_this_machine(rendering).splitlines())
    return [line.strip() for line in rendering.splitlines()
            if line != "user nginx;" and DOCKER_REPLICA.sub(r" 127.0.0.\1:\2 ", line) not in mapped]


@pytest.mark.parametrize("version", KNOWN_VERSIONS, ids=lambda version: ".".join(map(str, version)))
def test_the_installed_nginx_accepts_the_rendering_for(version: tuple[int, int, int], tmp_path: Path) -> None:
    rendering = dev_rendering(version)
    nginx_test(docker_conf_for_this_machine(rendering), tmp_path)
    unparsed = unparsed_here(rendering)
    if version <= nginx_version() or version < RESOLVE_SINCE:
        assert unparsed == [], f"nginx {version} needs nothing newer than this nginx, yet {unparsed} were left out"
    else:
        assert unparsed and all(line.endswith(" resolve;") for line in unparsed), unparsed


def test_docs_name_the_default_images_lines_no_nginx_here_parsed() -> None:
    docs = DOCS.read_text()
    installed = ".".join(map(str, nginx_version()))
    assert f"nginx {installed}" in docs, f"docs/nginx-versions.md does not say what nginx {installed} verified"
    for line in unparsed_here(dev_rendering(DEFAULT_IMAGE_VERSION)):
        generic = re.sub(r"backend-[0-9]+", "backend-N", line)
        assert generic in docs, f"docs/nginx-versions.md does not list the unparsed line {generic!r}"

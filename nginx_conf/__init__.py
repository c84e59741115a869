"""Rendering of the balancer's nginx.conf from its own settings model (pure: no Pulumi, no stack config)."""

from nginx_conf.reload import reload_script, reset_failures_script
from nginx_conf.render import NginxRuntime, UpstreamServer, render_nginx_conf
from nginx_conf.settings import NginxSettings

__all__ = [
    "NginxRuntime",
    "NginxSettings",
    "UpstreamServer",
    "reload_script",
    "render_nginx_conf",
    "reset_failures_script",
]

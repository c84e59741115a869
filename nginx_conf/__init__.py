"""Rendering of the balancer's nginx.conf from the validated balancer config (pure: no Pulumi)."""

from nginx_conf.reload import reload_script, reset_failures_script
from nginx_conf.render import NginxRuntime, UpstreamServer, render_nginx_conf

__all__ = ["NginxRuntime", "UpstreamServer", "reload_script", "render_nginx_conf", "reset_failures_script"]

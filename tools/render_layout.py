"""The files of a render directory: `tools/render.py` writes them, `tools/render_diff.py` reads them back."""

RESOURCES_FILE = "resources.json"
NGINX_CONF_FILE = "nginx.conf"
MANIFESTS_DIR = "manifests"
MONITORING_DIR = "monitoring"
ARTIFACTS = (RESOURCES_FILE, NGINX_CONF_FILE, MANIFESTS_DIR, MONITORING_DIR)
"""Everything a render owns inside its output directory; anything else there is left alone."""

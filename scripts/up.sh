#!/usr/bin/env bash
# `make up`: check the tools first (and say what to install), say what will happen, run `pulumi up --stack dev`,
# then print where everything is and how to look at, scale and tear down the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/preflight.sh
source scripts/preflight.sh "make up"

if ! pulumi stack select dev >/dev/null 2>&1; then
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    echo "Creating stack 'dev'. Its generated passwords are encrypted with a passphrase you choose now;"
    echo "set PULUMI_CONFIG_PASSPHRASE (or _FILE) to skip the prompt next time."
  fi
  pulumi stack init dev
fi

echo "Deploying stack 'dev': builds the backend image, then starts PostgreSQL, Redis, Qdrant, the backend"
echo "replicas, nginx, Prometheus and Grafana as containers on that daemon (data in protected volumes)."
echo "Pulumi shows the plan and asks before it changes anything; a second 'make up' with nothing changed reports no changes."
pulumi up --stack dev

output() { pulumi stack output --stack dev "$1" 2>/dev/null || echo "(see: pulumi stack output)"; }
cat <<SUMMARY

The dev stack is up.
  BRAiN Core:   $(output balancer_url)
  Grafana:      $(output grafana_url)   (user admin: pulumi stack output --show-secrets grafana_admin_password)
  Prometheus:   $(output prometheus_url)
  Logs:         docker logs brain-backend-1     (nginx: docker logs brain-nginx)
  Scale:        pulumi config set --path brain:backend.replicas 5 && make up
  Tear down:    make down    (keeps the data volumes; see README "Teardown")
SUMMARY

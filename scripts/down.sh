#!/usr/bin/env bash
# `make down`: remove the dev stack's containers and network and keep its protected data volumes (PostgreSQL,
# Redis, Qdrant). `pulumi destroy --exclude-protected` deletes every resource except the protected ones,
# their parents and what they depend on (pulumi/pulumi #8359); the volumes depend on nothing the containers
# need, so the containers and the network go and the next `make up` starts on the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/preflight.sh
source scripts/preflight.sh "make down"

if ! pulumi stack select dev >/dev/null 2>&1; then
  echo "There is no stack 'dev' in this Pulumi backend: nothing to remove."
  exit 0
fi

echo "Removing the dev stack's containers and network; the protected data volumes (PostgreSQL, Redis, Qdrant) stay."
pulumi destroy --stack dev --exclude-protected
echo "Done. The data volumes are kept: the next 'make up' starts on the same data."
echo "Everything, data included: README \"Teardown\" (pulumi state unprotect --all, then pulumi destroy)."

#!/usr/bin/env bash
# `make preview`: `pulumi preview --diff --stack dev` on the daemon `make up` uses (the same checks first), so
# the preview's image build and diff see the containers `make up` made, whatever the Docker CLI's context.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/preflight.sh
source scripts/preflight.sh "make preview"

if ! pulumi stack select dev >/dev/null 2>&1; then
  echo "There is no stack 'dev' in this Pulumi backend yet: 'make up' creates it." >&2
  exit 1
fi
pulumi preview --diff --stack dev

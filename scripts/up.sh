#!/usr/bin/env bash
# `make up`: check the tools first (and say what to install), then set up the venv and run `pulumi up --stack dev`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v pulumi >/dev/null 2>&1; then
  missing+=("the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh   (https://www.pulumi.com/docs/install/)")
fi
if ! command -v docker >/dev/null 2>&1; then
  missing+=("Docker: https://docs.docker.com/engine/install/ (or Docker Desktop)")
elif ! docker info >/dev/null 2>&1; then
  missing+=("a running Docker engine: 'docker' is installed but 'docker info' cannot reach the daemon; start it")
fi
if ((${#missing[@]})); then
  echo "make up needs what is missing on this machine:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "Without them, 'make render STACK=dev' shows the same stack offline (resources and nginx.conf)." >&2
  exit 1
fi

make --no-print-directory venv

# No Pulumi account needed: keep state in ~/.pulumi when the user is not logged in anywhere.
if ! pulumi whoami >/dev/null 2>&1; then
  echo "Not logged in to a Pulumi backend; using local state in ~/.pulumi (pulumi login --local)."
  pulumi login --local
fi

if ! pulumi stack select dev >/dev/null 2>&1; then
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    echo "Creating stack 'dev'. Its generated passwords are encrypted with a passphrase you choose now;"
    echo "set PULUMI_CONFIG_PASSPHRASE (or _FILE) to skip the prompt next time."
  fi
  pulumi stack init dev
fi

exec pulumi up --stack dev

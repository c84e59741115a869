# Sourced by scripts/up.sh and scripts/down.sh: the checks both need before Pulumi touches the dev stack.
# Stops at once naming what is missing; otherwise exports DOCKER_HOST (the daemon every step uses),
# prepares the venv and logs in (local state when logged in nowhere); each script then selects the stack.
# $1: the command the user ran ("make up" or "make down"), for the messages.

missing=()
if ! command -v pulumi >/dev/null 2>&1; then
  missing+=("the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh   (https://www.pulumi.com/docs/install/)")
fi
if ! command -v docker >/dev/null 2>&1; then
  missing+=("Docker: https://docs.docker.com/engine/install/ (or Docker Desktop)")
else
  # One daemon for everything: the Docker CLI follows its current context, while pulumi-docker ignores
  # contexts (DOCKER_HOST, else /var/run/docker.sock: pulumi-docker #603, e.g. Colima, rootless, Docker
  # Desktop on Linux). The context's endpoint, exported, reaches the provider and the `docker exec` of the
  # reload/rejoin commands (local.Command inherits this environment), and `docker info` below checks it.
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    daemon="$DOCKER_HOST (DOCKER_HOST, already set)"
  else
    DOCKER_HOST="$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)"
    daemon="$DOCKER_HOST (the Docker CLI's current context)"
  fi
  if [[ -n "$DOCKER_HOST" ]]; then
    export DOCKER_HOST
  else
    unset DOCKER_HOST
    daemon="unix:///var/run/docker.sock (the default: no context endpoint found)"
  fi
  if ! docker info >/dev/null 2>&1; then
    missing+=("a running Docker engine: 'docker' is installed but 'docker info' cannot reach the daemon at ${DOCKER_HOST:-the default socket}; start it")
  fi
fi
if ((${#missing[@]})); then
  echo "$1 needs what is missing on this machine:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "Without them, 'make render STACK=dev' shows the same stack offline (resources and nginx.conf)." >&2
  exit 1
fi
echo "Docker daemon: $daemon; Pulumi and the reload commands use it."

make --no-print-directory venv

# No Pulumi account needed: keep state in ~/.pulumi when the user is not logged in anywhere.
if ! pulumi whoami >/dev/null 2>&1; then
  echo "Not logged in to a Pulumi backend; using local state in ~/.pulumi (pulumi login --local)."
  pulumi login --local
fi

"""`python -m backend`: read the settings from the environment and serve until SIGTERM."""

from __future__ import annotations

import sys

from backend.app import create_backend
from backend.server import serve
from backend.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"backend: invalid environment:\n{error}", file=sys.stderr)
        return 2
    serve(create_backend(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the backend needs to reach the data tier; produced by either target's DataTier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi


@dataclass
class DataConnection:
    """Connection URLs for the backend's env. Anything carrying a credential is a secret Output."""

    database_url: pulumi.Output[str]
    """PostgreSQL URL with user and password (secret)."""
    redis_url: pulumi.Output[str]
    """Redis URL with its password (secret)."""
    qdrant_url: pulumi.Output[str]
    """Qdrant HTTP URL (no credential in it)."""
    qdrant_api_key: pulumi.Output[str]
    """Qdrant API key (secret)."""
    stores: Sequence[pulumi.Resource] = ()
    """What the URLs point at, where clients must start after it (docker); an explicit dependency, so a
    replaced store never replaces its clients. eks leaves it empty: pods wait by their readiness probes."""

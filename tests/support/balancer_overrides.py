"""`--set` overrides for the balancer tests of both stacks, shared so their runs are too."""

from __future__ import annotations

ROUND_ROBIN_WITH_HASHED_WEBSOCKETS = ["balancer.algorithm=round_robin", "balancer.websocket_affinity=consistent_hash"]
"""Round robin for requests and the other WebSocket affinity (both stacks' default is ip_hash): each upstream
must follow its own key."""


def with_algorithm(algorithm: str) -> list[str]:
    """The overrides that set `algorithm`; for round robin, ROUND_ROBIN_WITH_HASHED_WEBSOCKETS, so the algorithm
    and affinity tests share that run."""
    return ROUND_ROBIN_WITH_HASHED_WEBSOCKETS if algorithm == "round_robin" else [f"balancer.algorithm={algorithm}"]

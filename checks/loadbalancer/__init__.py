"""Checks of the loadbalancer hop."""

MODULES: tuple[str, ...] = (
    "backends_unhealthy",
)

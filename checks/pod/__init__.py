"""Checks of the pod hop."""

MODULES: tuple[str, ...] = (
    "service_selects_no_pod",
    "endpoints_not_ready",
)

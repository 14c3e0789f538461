"""Checks of the cluster hop."""

MODULES: tuple[str, ...] = (
    "kube_context",
    "access_denied",
)

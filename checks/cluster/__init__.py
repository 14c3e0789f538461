"""Checks of the cluster hop."""

MODULES: tuple[str, ...] = ()

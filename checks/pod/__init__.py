"""Checks of the pod hop."""

MODULES: tuple[str, ...] = ()

"""Checks of the loadbalancer hop."""

MODULES: tuple[str, ...] = ()

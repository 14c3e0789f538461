"""Checks of the node hop."""

MODULES: tuple[str, ...] = ()

"""Checks of the internet hop."""

MODULES: tuple[str, ...] = ()

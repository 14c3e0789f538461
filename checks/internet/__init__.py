"""Checks of the internet hop."""

MODULES: tuple[str, ...] = (
    "public_address_unreachable",
)

"""Checks of the internet hop."""

MODULES: tuple[str, ...] = (
    "public_address_unreachable",
    "lb_subnet_no_internet_route",
    "private_load_balancer",
    "listener_returns_server_error",
)

"""Checks of the loadbalancer hop."""

MODULES: tuple[str, ...] = (
    "backend_port_not_live_nodeport",
    "health_check_port_not_served",
    "backends_unhealthy",
    "lb_ingress_blocks_clients",
)

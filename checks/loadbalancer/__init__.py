"""Checks of the loadbalancer hop."""

MODULES: tuple[str, ...] = (
    "load_balancer_not_provisioned",
    "invalid_lb_annotation",
    "backend_port_not_live_nodeport",
    "health_check_port_not_served",
    "backends_unhealthy",
    "lb_ingress_blocks_clients",
)

"""Checks of the loadbalancer hop."""

MODULES: tuple[str, ...] = (
    "load_balancer_not_provisioned",
    "invalid_lb_annotation",
    "load_balancer_not_active",
    "service_port_without_listener",
    "listener_without_backends",
    "backend_port_not_live_nodeport",
    "backend_ip_not_a_node",
    "node_missing_from_backends",
    "health_check_port_not_served",
    "health_checker_differs_from_ccm",
    "backends_unhealthy",
    "lb_ingress_blocks_clients",
    "native_backend_set_stale",
    "native_backends_unhealthy",
    "native_lb_to_pods_blocked",
    "backend_set_tls_mismatch",
)

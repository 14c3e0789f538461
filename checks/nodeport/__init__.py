"""Checks of the nodeport hop: the path LB -> worker NodePort.

Two halves, kept apart so each can grow on its own: the Kubernetes side (NodePort
allocation, Service ports) and the OCI side (LB egress and worker ingress rules).
"""

_KUBERNETES: tuple[str, ...] = (
    "service_not_exposed",
)
_OCI: tuple[str, ...] = (
    "lb_egress_to_workers",
    "worker_ingress_from_lb",
    "worker_ingress_from_clients",
    "stateless_rule_without_return",
)

MODULES: tuple[str, ...] = _KUBERNETES + _OCI

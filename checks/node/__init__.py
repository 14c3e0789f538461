"""Checks of the node hop."""

MODULES: tuple[str, ...] = (
    "node_not_ready",
    "node_pressure",
    "node_cordoned",
    "node_excluded_from_lb",
    "node_being_deleted",
    "node_missing_provider_id",
    "endpoint_node_not_backend",
    "etp_local_endpoint_nodes",
    "cross_node_rules",
)

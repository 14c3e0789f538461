"""Checks of the ingress hop: the controller, the IngressClass, the rule and the backend a URL reaches."""

MODULES: tuple[str, ...] = (
    "no_rule_matches",
    "ingress_class_not_served",
    "backend_service_missing",
    "tls_secret_missing",
    "controller_not_ready",
    "native_class_parameters_missing",
    "annotation_rejected",
    "controller_answers_itself",
    "foreign_annotation",
    "route_not_accepted",
    "route_refs_unresolved",
    "gateway_not_programmed",
)

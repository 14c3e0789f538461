"""Checks of the DNS hop: does the URL's name lead to a load balancer of the cluster?"""

MODULES: tuple[str, ...] = (
    "name_does_not_resolve",
    "name_points_elsewhere",
)

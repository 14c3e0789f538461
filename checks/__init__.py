"""The built-in checks, one per module, grouped by hop (one sub-package per hop).

Listed by name (not found by scanning files) so that they load the same from a wheel, an
editable install or a source tree. A new built-in check adds its module name to MODULES in
its hop's `__init__.py`.
"""

from okedoctor_checks import cluster, dns, ingress, internet, loadbalancer, node, nodeport, pod, tls

BUILTIN: tuple[str, ...] = tuple(
    f"{pkg.__name__}.{module}"
    for pkg in (pod, ingress, node, nodeport, loadbalancer, internet, tls, dns, cluster)
    for module in pkg.MODULES
)

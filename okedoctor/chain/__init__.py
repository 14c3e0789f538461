"""The chain view: what the checks share about each hop, derived from Facts.

Checks only judge; the knowledge they share lives here, one module per concern, so no check
imports another:

- coverage: what the facts can say about each hop (applicable, reached, observed), the public
  addresses and what the internet saw.
- lb: the Service's load balancer as the cloud controller manager builds it (flavour, ports,
  backends, health checker, the CLI to fix it).
- health: the LB's view of its backends and what explains it.
- rules, annotations: security rules toward and from the workers, the CCM's annotations.
- nodes: workers as LB backends (exclusion, taints, pods per node).
- causes, containers, live, ports, scheduling: the pod side (why pods are not ready, containers
  grouped by fault, the in-pod probe's answers, port wiring, node room).
- manifests: the YAML the storage fixes print (a claim, a block-volume StorageClass).
"""

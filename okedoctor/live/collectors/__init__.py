"""One collector per source of facts, each writing into a shared per-run `RunState`.

`kube` reads the Kubernetes API, `containers` the logs and the in-pod probe (exec), `ocirun`
the OCI REST APIs (finding the LB with `lbfind`, reading around it with `oci`), `internet` the
public address; `assemble` turns the state into a Snapshot. `wires` is the seam every read
goes through: the real APIs, or anything answering the same narrow calls (a snapshot in memory).
"""

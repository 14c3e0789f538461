"""A file's recorded denials (`collection: {fact: {kind: denied, reason}}`), replayed on the wire.

A snapshot taken by a user who may not read Secrets says so in `collection`; serving that file
must deny the same reads, or a live diagnosis against the simulator (and kubectl) would see
more than the user did. The reason names what was denied, as the collector writes it: the
RBAC rule (`{apiGroups: [""], resources: [secrets], verbs: [get]}`) for Kubernetes, the IAM
family (`reading virtual-network-family`) for OCI. Each becomes a Fault that answers every
matching read as the real API does: 403 Forbidden with the API server's Status body, or OCI's
404 NotAuthorizedOrNotFound.
"""

from __future__ import annotations

import re
from typing import Any

from okedoctor.facts import KUBERNETES, LIVE_CONTAINERS, LIVE_PROBE, OCI
from okedoctor.live.engine import KUBE_API, OCI_API
from okedoctor.oci_catalog import CATALOG, SERVICES
from okedoctor.sim.httpbase import Fault

_RULE = re.compile(r"apiGroups: \[([^\]]*)\], resources: \[([^\]]+)\]")
# What a fact names when its reason holds no RBAC rule (an older or hand-written file).
_FACT_RESOURCES = {LIVE_PROBE: ("", "pods/exec"), LIVE_CONTAINERS: ("", "pods/log")}


def _iam_paths() -> dict[str, str]:
    """IAM family -> the OCI paths it authorizes: the service's API version, or, where two services
    share one (VCN and Compute), the collections the catalogue gives the service."""
    out: dict[str, str] = {}
    for svc in SERVICES.values():
        shared = sum(1 for other in SERVICES.values() if other.version == svc.version) > 1
        names = dict.fromkeys(r.collection for r in CATALOG if r.service == svc.key and not r.keyed)
        path = rf"^/{svc.version}/({'|'.join(names)})\b" if shared else rf"^/{svc.version}/"
        out.update(dict.fromkeys(svc.iam_families, path))
    return out


IAM_PATHS = _iam_paths()


def denial_faults(collection: dict[str, Any]) -> list[Fault]:
    """The faults that deny, on the wire, what `collection` records as denied."""
    faults: list[Fault] = []
    for fact, gap in (collection or {}).items():
        if not isinstance(gap, dict) or gap.get("kind") != "denied":
            continue
        reason = str(gap.get("reason") or "")
        if str(fact).startswith(OCI):
            faults += [Fault(OCI_API, re.compile(path), 404, denied=str(fact))
                       for family, path in IAM_PATHS.items() if re.search(rf"(?<![\w-]){family}(?![\w-])", reason)]
            continue
        for group, resource in _rules(str(fact), reason):
            faults.append(Fault(KUBE_API, re.compile(kube_path(group, resource)), 403, denied=str(fact)))
    return faults


def _rules(fact: str, reason: str) -> list[tuple[str | None, str]]:
    """(API group or None for any, resource) pairs the reason's RBAC rules name."""
    out: list[tuple[str | None, str]] = []
    for groups, resources in _RULE.findall(reason):
        group = groups.split(",")[0].strip().strip('"')
        out += [(group, r.strip()) for r in resources.split(",") if r.strip()]
    if not out and fact in _FACT_RESOURCES:
        out.append(_FACT_RESOURCES[fact])
    elif not out and fact.startswith(f"{KUBERNETES}."):
        out.append((None, fact.removeprefix(f"{KUBERNETES}.")))
    return out


def kube_path(group: str | None, resource: str) -> str:
    """A regex for the URL paths that read `resource` (`pods/log`: a subresource) in `group`."""
    plural, _, sub = resource.partition("/")
    prefix = "/api/v1" if group == "" else rf"/apis/{re.escape(group)}/[^/]+" if group else \
        r"(/api/v1|/apis/[^/]+/[^/]+)"
    if sub:
        return rf"^{prefix}/namespaces/[^/]+/{re.escape(plural)}/[^/]+/{re.escape(sub)}$"
    return rf"^{prefix}/(namespaces/[^/]+/)?{re.escape(plural)}(/[^/]+)?$"

"""Annotation values the cloud controller manager rejects (it then stops reconciling the LB)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okedoctor.chain.lb import PRESERVE_SOURCE, RULE_MODE, annotations, is_local, spec, wanted_flavor

NLB_SL_MODE = "oci-network-load-balancer.oraclecloud.com/security-list-management-mode"
NLB_INTERVAL = "oci-network-load-balancer.oraclecloud.com/health-check-interval"
LB_INTERVAL = "service.beta.kubernetes.io/oci-load-balancer-health-check-interval"
NLB_RETRIES = "oci-network-load-balancer.oraclecloud.com/health-check-retries"
LB_RETRIES = "service.beta.kubernetes.io/oci-load-balancer-health-check-retries"
NLB_TIMEOUT = "oci-network-load-balancer.oraclecloud.com/health-check-timeout"
LB_TIMEOUT = "service.beta.kubernetes.io/oci-load-balancer-health-check-timeout"
LB_SHAPE = "service.beta.kubernetes.io/oci-load-balancer-shape"
LB_FLEX_MIN = "service.beta.kubernetes.io/oci-load-balancer-shape-flex-min"
LB_FLEX_MAX = "service.beta.kubernetes.io/oci-load-balancer-shape-flex-max"
MAX_INTERVAL = 1_800_000


@dataclass(frozen=True)
class Problem:
    key: str
    value: str | None
    why: str
    # The value to set instead; None means remove the annotation.
    suggested: str | None


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except (ValueError, AttributeError):
        return None


def _rule_mode(ann: dict[str, str]) -> list[Problem]:
    value = ann.get(RULE_MODE)
    if value is None or value.lower() in ("sl-all", "sl-frontend", "nsg") or value == "None":
        return []
    guess = {"all": "SL-All", "frontend": "SL-Frontend", "none": "None"}.get(value.lower(), "SL-All")
    return [Problem(RULE_MODE, value, "accepted values are SL-All, SL-Frontend, NSG and None (exactly)", guess)]


def _health(ann: dict[str, str], flavor: str) -> list[Problem]:
    out = []
    interval_key, low = (NLB_INTERVAL, 10_000) if flavor == "nlb" else (LB_INTERVAL, 1_000)
    others = (NLB_RETRIES, NLB_TIMEOUT) if flavor == "nlb" else (LB_RETRIES, LB_TIMEOUT)
    for key in (interval_key, *others):
        if key in ann and _int(ann[key]) is None:
            out.append(Problem(key, ann[key], "must be an integer", None))
    interval = _int(ann.get(interval_key, ""))
    if interval is not None and not low <= interval <= MAX_INTERVAL:
        why = f"the interval must be between {low} and {MAX_INTERVAL} ms"
        out.append(Problem(interval_key, ann[interval_key], why, str(max(low, min(interval, MAX_INTERVAL)))))
    return out


def annotation_problems(svc: dict[str, Any]) -> list[Problem]:
    """Every annotation (or annotation/spec combination) the CCM refuses, with what to set instead."""
    ann = annotations(svc)
    flavor = wanted_flavor(svc)
    out = _rule_mode(ann)
    nlb_mode = ann.get(NLB_SL_MODE)
    if flavor == "nlb" and RULE_MODE not in ann and nlb_mode not in (None, "All", "Frontend", "None"):
        out.append(Problem(NLB_SL_MODE, ann[NLB_SL_MODE], "accepted values are All, Frontend and None", "None"))
    if PRESERVE_SOURCE in ann and ann.get("oci.oraclecloud.com/load-balancer-type") == "nlb":
        if not is_local(svc):
            out.append(Problem(PRESERVE_SOURCE, ann[PRESERVE_SOURCE],
                               "is-preserve-source cannot be set when externalTrafficPolicy is Cluster", None))
        elif ann[PRESERVE_SOURCE].lower() not in ("true", "false", "1", "0", "t", "f"):
            out.append(Problem(PRESERVE_SOURCE, ann[PRESERVE_SOURCE], "must be true or false", "true"))
    out += _health(ann, flavor)
    if flavor == "lb":
        if any((p.get("protocol") or "TCP").upper() == "UDP" for p in spec(svc).get("ports") or []):
            key = "oci.oraclecloud.com/load-balancer-type"
            why = "OCI load balancers (L7) do not support UDP ports; use a Network Load Balancer"
            out.append(Problem(key, ann.get(key), why, "nlb"))
        if (ann.get(LB_SHAPE) or "").lower() == "flexible":
            for key in (LB_FLEX_MIN, LB_FLEX_MAX):
                if key not in ann:
                    out.append(Problem(key, None, "the flexible shape needs both shape-flex-min and shape-flex-max",
                                       "10" if key == LB_FLEX_MIN else "100"))
    return out


def kubectl_fix(svc: dict[str, Any], problems: list[Problem]) -> str:
    meta = svc.get("metadata") or {}
    parts = [f"{p.key}-" if p.suggested is None else f"{p.key}={p.suggested}" for p in problems]
    return f"kubectl annotate service -n {meta.get('namespace')} {meta.get('name')} --overwrite {' '.join(parts)}"

"""The finding model: what a check reports and what a diagnosis returns.

Everything here is plain data (frozen where it can be) so that renderers, the JSON
schema and the fleet report all read the same structure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Hop(enum.StrEnum):
    """Where on the chain Internet -> LB -> NodePort -> Node -> Pod a fault sits."""

    INTERNET = "internet"
    LOADBALANCER = "loadbalancer"
    NODEPORT = "nodeport"
    NODE = "node"
    POD = "pod"
    CLUSTER = "cluster"

    @property
    def depth(self) -> int:
        """Distance from the pod: a fault at a smaller depth can explain one further out."""
        return _DEPTH[self]


_DEPTH = {
    Hop.CLUSTER: -1,
    Hop.POD: 0,
    Hop.NODE: 1,
    Hop.NODEPORT: 2,
    Hop.LOADBALANCER: 3,
    Hop.INTERNET: 4,
}

# The order the text report draws the chain in, as traffic flows.
CHAIN = (Hop.INTERNET, Hop.LOADBALANCER, Hop.NODEPORT, Hop.NODE, Hop.POD)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Verdict(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "warning": 1, "failure": 2, "unknown": 3}[self.value]

    @property
    def rank(self) -> int:
        """Worst-of ordering for fleet reports: failure > unknown > warning > ok."""
        return {"ok": 0, "warning": 1, "unknown": 2, "failure": 3}[self.value]


class ExitCode(enum.IntEnum):
    OK = 0
    WARNING = 1
    FAILURE = 2
    UNKNOWN = 3
    USAGE = 64


class SkipKind(enum.StrEnum):
    """Why a check did not run. Only some kinds make the verdict `unknown`."""

    NOT_OBSERVED = "not-observed"  # the snapshot holds no such facts; nothing failed
    DISABLED = "disabled"  # switched off by the user (--no-exec, no OCI config)
    DENIED = "denied"  # RBAC / IAM refused the read
    UNAVAILABLE = "unavailable"  # the API did not answer (timeout, connection refused, 5xx)
    ERROR = "error"  # the check itself raised: a bug, reported rather than crashing

    @property
    def makes_unknown(self) -> bool:
        return self in (SkipKind.DENIED, SkipKind.UNAVAILABLE, SkipKind.ERROR)


@dataclass(frozen=True)
class Fix:
    summary: str
    commands: tuple[str, ...] = ()
    patch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary, "commands": list(self.commands)}
        if self.patch:
            out["patch"] = self.patch
        return out


@dataclass(frozen=True)
class Finding:
    code: str
    check: str
    hop: Hop
    severity: Severity
    title: str
    evidence: dict[str, Any]
    fix: Fix
    # The object the finding is about (kind/namespace/name or an OCID); part of its identity.
    subject: str = ""
    # A check that observes an effect (health status, a probe) rather than a cause marks its
    # findings as symptoms; the runner ties them to a cause closer to the pod when there is one.
    symptom: bool = False
    root_cause: bool = True
    caused_by: str | None = None

    @property
    def key(self) -> str:
        """Stable identity across runs, for `report --state`."""
        return f"{self.code}:{self.subject}"

    def as_consequence_of(self, cause: Finding) -> Finding:
        return replace(self, root_cause=False, caused_by=cause.code)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "check": self.check,
            "hop": self.hop.value,
            "severity": self.severity.value,
            "title": self.title,
            "subject": self.subject,
            "evidence": self.evidence,
            "fix": self.fix.to_dict(),
            "rootCause": self.root_cause,
        }
        if self.caused_by:
            out["causedBy"] = self.caused_by
        return out


@dataclass(frozen=True)
class Skipped:
    check: str
    reason: str
    kind: SkipKind = SkipKind.NOT_OBSERVED
    code: str = ""
    hop: Hop | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"check": self.check, "code": self.code, "kind": self.kind.value, "reason": self.reason}
        if self.hop is not None:
            out["hop"] = self.hop.value
        return out


@dataclass(frozen=True)
class Target:
    namespace: str
    service: str

    def __str__(self) -> str:
        return f"{self.namespace}/svc/{self.service}"


@dataclass
class Report:
    target: Target
    context: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    # Hops at least one check ran on; None when unknown (a report built by hand).
    checked_hops: frozenset[Hop] | None = None

    @property
    def verdict(self) -> Verdict:
        if any(f.severity is Severity.ERROR for f in self.findings):
            return Verdict.FAILURE
        if any(s.kind.makes_unknown for s in self.skipped):
            return Verdict.UNKNOWN
        if any(f.severity is Severity.WARNING for f in self.findings):
            return Verdict.WARNING
        return Verdict.OK

    @property
    def root_causes(self) -> list[Finding]:
        return [f for f in self.findings if f.root_cause and f.severity is not Severity.INFO]

    def hop_status(self, hop: Hop) -> Verdict:
        """The status drawn for one hop: unknown, not ok, when nothing proved it healthy."""
        here = [f for f in self.findings if f.hop is hop]
        if any(f.severity is Severity.ERROR for f in here):
            return Verdict.FAILURE
        if any(f.severity is Severity.WARNING for f in here):
            return Verdict.WARNING
        if any(s.hop is hop and s.kind.makes_unknown for s in self.skipped):
            return Verdict.UNKNOWN
        if self.checked_hops is not None and hop not in self.checked_hops:
            return Verdict.UNKNOWN
        return Verdict.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "okedoctor/report/v1",
            "verdict": self.verdict.value,
            "target": {"namespace": self.target.namespace, "service": self.target.service},
            "context": self.context,
            "hops": {hop.value: self.hop_status(hop).value for hop in CHAIN},
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "stats": self.stats,
        }

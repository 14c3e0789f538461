"""The finding model: what a check reports and what a diagnosis returns.

Everything here is plain data (frozen where it can be) so that renderers, the JSON
schema and the fleet report all read the same structure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from okedoctor.actions import Action, ActionCommand


class Hop(enum.StrEnum):
    """Where on the chain (DNS ->) Internet -> LB -> NodePort -> Node (-> Ingress) -> Pod a fault sits."""

    DNS = "dns"
    INTERNET = "internet"
    LOADBALANCER = "loadbalancer"
    NODEPORT = "nodeport"
    NODE = "node"
    INGRESS = "ingress"
    POD = "pod"
    CLUSTER = "cluster"

    @property
    def depth(self) -> int:
        """Distance from the pod: a fault at a smaller depth can explain one further out."""
        return _DEPTH[self]


# The ingress controller's pods and rules sit between the node and the backend pods.
_DEPTH = {
    Hop.CLUSTER: -1,
    Hop.POD: 0,
    Hop.INGRESS: 1,
    Hop.NODE: 2,
    Hop.NODEPORT: 3,
    Hop.LOADBALANCER: 4,
    Hop.INTERNET: 5,
    Hop.DNS: 6,
}

# The order the text report draws the chain in, as traffic flows.
CHAIN = (Hop.INTERNET, Hop.LOADBALANCER, Hop.NODEPORT, Hop.NODE, Hop.POD)
# A URL's chain: the name resolves first, and the ingress rule picks the backend Service.
URL_CHAIN = (Hop.DNS, Hop.INTERNET, Hop.LOADBALANCER, Hop.NODEPORT, Hop.NODE, Hop.INGRESS, Hop.POD)


class HopState(enum.StrEnum):
    """What the report can say about one hop. Only OK claims health, and only after a check looked."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    UNKNOWN = "unknown"  # could not be checked: denied, unreachable, not configured, deadline
    NOT_APPLICABLE = "notApplicable"  # the hop does not exist for this Service (a private LB's internet)
    NOT_REACHED = "notReached"  # the chain ends before this hop (no LB exists, so no internet hop)


@dataclass(frozen=True)
class HopView:
    state: HopState
    reason: str = ""


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

    @property
    def actions(self) -> tuple[Action, ...]:
        """The requests `okedoctor fix` can send: those the printed commands were rendered from."""
        return tuple(c.action for c in self.commands if isinstance(c, ActionCommand))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary, "commands": [str(c) for c in self.commands]}
        if self.patch:
            out["patch"] = self.patch
        if self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
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
    # An effect whose cause could not be looked at: why (the hop that could not be checked).
    cause_unknown: str | None = None
    # The user's silence that matched this finding but has expired: reason, source, expires.
    silence_expired: dict[str, str] | None = None
    # Where the check is documented (docs/checks.md#code for built-in checks); "" when nowhere.
    docs: str = ""

    @property
    def key(self) -> str:
        """Stable identity across runs, for `report --state`."""
        return f"{self.code}:{self.subject}"

    def as_consequence_of(self, cause: Finding) -> Finding:
        """This finding, tied to `cause`: its fix is the cause's, and its text says so."""
        fix = replace(self.fix, summary=f"Fix {cause.code} first ({cause.title}); this recovers with it.")
        return replace(self, root_cause=False, caused_by=cause.code, fix=fix)

    def as_unexplained(self, why: str) -> Finding:
        """An effect whose cause lies on a hop nothing could look at: not a root cause either."""
        return replace(self, root_cause=False, cause_unknown=why)

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
        if self.cause_unknown:
            out["causeUnknown"] = self.cause_unknown
        if self.silence_expired:
            out["silenceExpired"] = self.silence_expired
        if self.docs:
            out["docs"] = self.docs
        return out


@dataclass(frozen=True)
class Silenced:
    """A finding the user silenced (config file, `--exclude`): out of the verdict, still counted."""

    finding: Finding
    reason: str
    source: str
    expires: date | None = None

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        out = {"code": f.code, "check": f.check, "hop": f.hop.value, "severity": f.severity.value,
               "title": f.title, "subject": f.subject, "reason": self.reason, "source": self.source}
        if self.expires:
            out["expires"] = self.expires.isoformat()
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
    """A Service; or a URL (`url`) or an Ingress/HTTPRoute (`route`, `ingress/NAME`) whose walk
    ends at a Service (then `namespace`/`service` name it once found, and are empty before)."""

    namespace: str
    service: str
    url: str | None = None
    route: str | None = None

    def __str__(self) -> str:
        if self.url:
            return self.url
        if self.route:
            return f"{self.namespace}/{self.route}"
        return f"{self.namespace}/svc/{self.service}"

    @property
    def walks_url(self) -> bool:
        return bool(self.url or self.route)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "service": self.service}
        if self.url:
            out["url"] = self.url
        if self.route:
            out["route"] = self.route
        return out


@dataclass
class Report:
    target: Target
    context: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    # The state of each hop of `chain`, as the runner judged it; None for a report built by hand.
    hops: dict[Hop, HopView] | None = None
    # Findings the user silenced, and the codes of checks the user switched off (`--disable`).
    silenced: list[Silenced] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    # The checks that ran (code, name, hop), for formats with one entry per check (JUnit).
    checks_run: list[tuple[str, str, Hop]] = field(default_factory=list)
    # The hops drawn: CHAIN for a Service, URL_CHAIN for a URL or an Ingress/HTTPRoute.
    chain: tuple[Hop, ...] = CHAIN
    # A URL walk: the name's answers, the LB, the controller, the rule and the backend it found.
    route: dict[str, Any] | None = None

    @property
    def verdict(self) -> Verdict:
        if any(f.severity is Severity.ERROR for f in self.findings):
            return Verdict.FAILURE
        if any(s.kind.makes_unknown for s in self.skipped):
            return Verdict.UNKNOWN
        if any(self.hop_status(h) is HopState.UNKNOWN for h in self.chain):
            return Verdict.UNKNOWN
        if any(f.severity is Severity.WARNING for f in self.findings):
            return Verdict.WARNING
        return Verdict.OK

    @property
    def root_causes(self) -> list[Finding]:
        return [f for f in self.findings if f.root_cause and f.severity is not Severity.INFO]

    def hop_status(self, hop: Hop) -> HopState:
        return self.hop_view(hop).state

    def hop_view(self, hop: Hop) -> HopView:
        """The state drawn for one hop (a report built by hand is judged from its findings alone)."""
        if self.hops is not None:
            return self.hops.get(hop, HopView(HopState.UNKNOWN, "not judged"))
        here = [f.severity for f in self.findings if f.hop is hop]
        if Severity.ERROR in here:
            return HopView(HopState.ERROR)
        return HopView(HopState.WARNING if Severity.WARNING in here else HopState.OK)

    @property
    def gaps(self) -> list[dict[str, Any]]:
        """The skipped checks grouped by why: one entry per reason, naming the checks it hid."""
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for s in self.skipped:
            entry = grouped.setdefault((s.kind.value, s.reason), {
                "kind": s.kind.value, "reason": s.reason, "checks": [], "hops": []})
            entry["checks"].append(s.code or s.check)
            if s.hop is not None and s.hop.value not in entry["hops"]:
                entry["hops"].append(s.hop.value)
        return list(grouped.values())

    def to_dict(self) -> dict[str, Any]:
        out = {
            "schema": "okedoctor/report/v1",
            "verdict": self.verdict.value,
            "target": self.target.to_dict(),
            "context": self.context,
            "hops": {hop.value: self.hop_status(hop).value for hop in self.chain},
            "hopReasons": {hop.value: v.reason for hop in self.chain if (v := self.hop_view(hop)).reason},
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "gaps": self.gaps,
            "silenced": [s.to_dict() for s in self.silenced],
            "disabledChecks": list(self.disabled),
            "stats": self.stats,
        }
        if self.route is not None:
            out["route"] = self.route
        return out

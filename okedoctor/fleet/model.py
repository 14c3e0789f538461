"""The fleet report: one Report per Service, a worst-of verdict, and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from okedoctor.model import Finding, Report, Verdict


@dataclass
class Changes:
    """Findings compared with the previous run (`--state`), keyed by `<ns>/<svc>`.

    `resolved` holds only findings this run verified gone (the check ran on the Service and
    did not raise them, or the Service was deleted). A finding this run could not verify
    (another namespace, a skipped check, a Service type the run did not cover) is `unverified`:
    still open, with the reason, never announced as resolved.
    """

    new: dict[str, list[Finding]] = field(default_factory=dict)
    resolved: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    persisting: dict[str, list[Finding]] = field(default_factory=dict)
    unverified: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    first_run: bool = False

    @property
    def any(self) -> bool:
        """Something to announce: a finding appeared or was verified gone."""
        return bool(self.new or self.resolved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "firstRun": self.first_run,
            "new": {k: [f.to_dict() for f in v] for k, v in sorted(self.new.items())},
            "resolved": {k: v for k, v in sorted(self.resolved.items())},
            "persisting": {k: [f.key for f in v] for k, v in sorted(self.persisting.items())},
            "unverified": {k: v for k, v in sorted(self.unverified.items())},
        }


@dataclass
class FleetReport:
    services: list[Report]
    context: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)
    changes: Changes | None = None
    # The namespace the run covered; None: every namespace.
    scope: str | None = None
    # Codes of the checks this run had (a check not registered did not run on any Service).
    check_codes: frozenset[str] = frozenset()
    # Every Service the run listed in its scope, of any type: "<ns>/<name>" -> spec.type.
    listed: dict[str, str] = field(default_factory=dict)
    include_nodeport: bool = False
    # When no Service was diagnosed: the sentence that says why (printed, and in the JSON).
    nothing_to_check: str | None = None
    # Set when the run could not tell whether its scope exists (namespace read denied).
    scope_unknown: str | None = None
    # With --state: "<ns>/<svc>" -> since when (ISO) it has had a warning or error.
    since: dict[str, str] | None = None
    # Codes of the checks that judge the in-pod probe's answers, and the Services where it ran
    # in only some of the ready pods (a fleet run probes one): there, such a check's silence
    # does not prove a previous finding gone.
    probe_codes: frozenset[str] = frozenset()
    partly_probed: frozenset[str] = frozenset()

    def worst_first(self) -> list[Report]:
        """Failures first, then unknown, warning, ok; by name within each."""
        return sorted(self.services, key=lambda r: (-r.verdict.rank, service_key(r)))

    @property
    def verdict(self) -> Verdict:
        if self.scope_unknown and not self.services:
            return Verdict.UNKNOWN
        if not self.services:
            return Verdict.OK
        return max((r.verdict for r in self.services), key=lambda v: v.rank)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": "okedoctor/fleet/v1",
            "verdict": self.verdict.value,
            "context": self.context,
            "scope": {"namespace": self.scope} if self.scope is not None else {"allNamespaces": True},
            "summary": {v.value: sum(1 for r in self.services if r.verdict is v) for v in Verdict},
            "services": [r.to_dict() for r in self.services],
            "silencedFindings": sum(len(r.silenced) for r in self.services),
            "stats": self.stats,
        }
        if self.nothing_to_check:
            out["nothingToCheck"] = self.nothing_to_check
        if self.changes is not None:
            out["changes"] = self.changes.to_dict()
        if self.since is not None:
            out["since"] = dict(sorted(self.since.items()))
        return out


def service_key(report: Report) -> str:
    return f"{report.target.namespace}/{report.target.service}"

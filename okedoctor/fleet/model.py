"""The fleet report: one Report per Service, a worst-of verdict, and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from okedoctor.model import Finding, Report, Verdict


@dataclass
class Changes:
    """Findings compared with the previous run (`--state`), keyed by `<ns>/<svc>`."""

    new: dict[str, list[Finding]] = field(default_factory=dict)
    resolved: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    persisting: dict[str, list[Finding]] = field(default_factory=dict)
    first_run: bool = False

    @property
    def any(self) -> bool:
        return bool(self.new or self.resolved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "firstRun": self.first_run,
            "new": {k: [f.to_dict() for f in v] for k, v in sorted(self.new.items())},
            "resolved": {k: v for k, v in sorted(self.resolved.items())},
            "persisting": {k: [f.key for f in v] for k, v in sorted(self.persisting.items())},
        }


@dataclass
class FleetReport:
    services: list[Report]
    context: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)
    changes: Changes | None = None

    @property
    def verdict(self) -> Verdict:
        if not self.services:
            return Verdict.OK
        return max((r.verdict for r in self.services), key=lambda v: v.rank)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": "okedoctor/fleet/v1",
            "verdict": self.verdict.value,
            "context": self.context,
            "summary": {v.value: sum(1 for r in self.services if r.verdict is v) for v in Verdict},
            "services": [r.to_dict() for r in self.services],
            "stats": self.stats,
        }
        if self.changes is not None:
            out["changes"] = self.changes.to_dict()
        return out


def service_key(report: Report) -> str:
    return f"{report.target.namespace}/{report.target.service}"

"""`--prometheus-file`: node_exporter textfile-collector metrics, written atomically."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from okedoctor.fleet.model import FleetReport
from okedoctor.fleet.state import atomic_write


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(fleet: FleetReport, now: float | None = None) -> str:
    lines = [
        "# HELP okedoctor_service_verdict Verdict of the last diagnosis (0 ok, 1 warning, 2 failure, 3 unknown).",
        "# TYPE okedoctor_service_verdict gauge",
    ]
    for r in fleet.services:
        root = next(iter(r.root_causes), None)
        labels = (f'namespace="{_label(r.target.namespace)}",service="{_label(r.target.service)}",'
                  f'root_cause="{_label(root.code if root else "")}",hop="{_label(root.hop.value if root else "")}",'
                  f'docs="{_label(root.docs if root else "")}"')
        lines.append(f"okedoctor_service_verdict{{{labels}}} {r.verdict.exit_code}")
    counts = Counter((f.severity.value, f.hop.value) for r in fleet.services for f in r.findings)
    lines += [
        "# HELP okedoctor_findings Findings of the last run by severity and hop.",
        "# TYPE okedoctor_findings gauge",
    ]
    for (sev, hop), n in sorted(counts.items()):
        lines.append(f'okedoctor_findings{{severity="{sev}",hop="{hop}"}} {n}')
    if fleet.changes is not None:
        # --state only: findings of earlier runs this run could not verify (still open, not resolved).
        unverified = Counter((f.get("severity", ""), f.get("hop", ""), f.get("why", ""))
                             for kept in fleet.changes.unverified.values() for f in kept)
        lines += [
            "# HELP okedoctor_unverified_findings Open findings of earlier runs this run could not verify, "
            "by severity, hop and why (out-of-scope, check-skipped, check-not-run, not-covered).",
            "# TYPE okedoctor_unverified_findings gauge",
        ]
        for (sev, hop, why), n in sorted(unverified.items()):
            lines.append(f'okedoctor_unverified_findings{{severity="{_label(sev)}",hop="{_label(hop)}",'
                         f'why="{_label(why)}"}} {n}')
    silenced = Counter((r.target.namespace, r.target.service, s.finding.code)
                       for r in fleet.services for s in r.silenced)
    lines += [
        "# HELP okedoctor_silenced_findings Findings the config file or --exclude silenced, by Service and code.",
        "# TYPE okedoctor_silenced_findings gauge",
    ]
    for (ns, svc, code), n in sorted(silenced.items()):
        lines.append(f'okedoctor_silenced_findings{{namespace="{_label(ns)}",service="{_label(svc)}",'
                     f'code="{_label(code)}"}} {n}')
    lines += [
        "# HELP okedoctor_services Services diagnosed in the last run, by verdict.",
        "# TYPE okedoctor_services gauge",
    ]
    by_verdict = Counter(r.verdict.value for r in fleet.services)
    for verdict in ("ok", "warning", "failure", "unknown"):
        lines.append(f'okedoctor_services{{verdict="{verdict}"}} {by_verdict.get(verdict, 0)}')
    lines += [
        "# HELP okedoctor_last_run_timestamp_seconds When the last run finished.",
        "# TYPE okedoctor_last_run_timestamp_seconds gauge",
        f"okedoctor_last_run_timestamp_seconds {now if now is not None else time.time():.3f}",
        "# HELP okedoctor_last_run_duration_seconds How long the last run took.",
        "# TYPE okedoctor_last_run_duration_seconds gauge",
        f"okedoctor_last_run_duration_seconds {float(fleet.stats.get('duration_s', 0.0)):.3f}",
        "# HELP okedoctor_api_requests API requests made by the last run.",
        "# TYPE okedoctor_api_requests gauge",
    ]
    for api, n in sorted((fleet.stats.get("api_requests") or {}).items()):
        lines.append(f'okedoctor_api_requests{{api="{_label(api)}"}} {n}')
    return "\n".join(lines) + "\n"


def write_metrics(path: str | Path, fleet: FleetReport) -> None:
    atomic_write(Path(path), metrics_text(fleet))

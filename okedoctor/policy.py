"""What the user told us to silence, override or switch off (`.okedoctor.yaml`, `--exclude`,
`--disable`), and applying it to one Service's findings.

Plain data and pure matching: `okedoctor.config` reads and validates the file into a `Policy`,
the runner applies it. A silenced finding is kept (`Silenced`) so the report can count it;
nothing a check found vanishes without trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase

from okedoctor.model import Finding, Severity, Silenced

# One requirement of a label selector: `key`, `!key`, `key=value`, `key==value`, `key!=value`.
# Possessive: the runs of spaces, key and value characters never overlap, so nothing needs giving
# back, and a line of spaces is refused in linear time (it took 29 s for 64 KiB).
_REQ_RE = re.compile(r"^\s*+(!?)\s*+([A-Za-z0-9._/-]++)\s*+(?:(==|=|!=)\s*+([A-Za-z0-9._-]*+))?\s*+$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "exists", "!exists", "=", "!="
    value: str = ""

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "=":
            return labels.get(self.key) == self.value
        return labels.get(self.key) != self.value


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """An equality-based label selector as kubectl's `-l` takes it; ValueError when malformed."""
    reqs = []
    for part in text.split(","):
        m = _REQ_RE.match(part)
        if not m or (m.group(1) and m.group(3)):
            raise ValueError(f"cannot parse {part.strip()!r} (write key=value, key!=value, key or !key)")
        neg, key, op, value = m.groups()
        if op is None:
            reqs.append(Requirement(key, "!exists" if neg else "exists"))
        else:
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", value or ""))
    return tuple(reqs)


@dataclass(frozen=True)
class Scope:
    """Which findings a silence or an override covers: every field given must match (globs allowed)."""

    code: str | None = None
    check: str | None = None
    namespace: str | None = None
    service: str | None = None
    object: str | None = None  # the finding's subject, e.g. pod/shop/app-*
    selector: tuple[Requirement, ...] = ()  # on the Service's labels

    def matches(self, f: Finding, namespace: str, service: str, labels: dict[str, str]) -> bool:
        pairs = ((self.code, f.code), (self.check, f.check), (self.namespace, namespace),
                 (self.service, service), (self.object, f.subject))
        if any(want is not None and not fnmatchcase(have, want) for want, have in pairs):
            return False
        return all(r.matches(labels) for r in self.selector)


@dataclass(frozen=True)
class Silence:
    scope: Scope
    reason: str
    expires: date | None = None
    source: str = ""  # where it was written: ".okedoctor.yaml silences[2]", "--exclude"

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "source": self.source}
        if self.expires:
            out["expires"] = self.expires.isoformat()
        return out


@dataclass(frozen=True)
class Override:
    scope: Scope
    severity: Severity
    source: str = ""


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Policy:
    silences: tuple[Silence, ...] = ()
    overrides: tuple[Override, ...] = ()
    disabled: frozenset[str] = frozenset()  # check codes not to run at all
    today: date = field(default_factory=_today)

    def apply(self, findings: list[Finding], namespace: str, service: str,
              labels: dict[str, str]) -> tuple[list[Finding], list[Silenced]]:
        """(findings kept, findings silenced). Overrides first, so a silence sees the final severity.

        A finding matched only by expired silences is kept and says which silence ran out.
        """
        kept: list[Finding] = []
        silenced: list[Silenced] = []
        for f in findings:
            for o in self.overrides:
                if o.scope.matches(f, namespace, service, labels):
                    f = replace(f, severity=o.severity)
            if f.severity is Severity.INFO:  # context, not an alarm: nothing to silence
                kept.append(f)
                continue
            hits = [s for s in self.silences if s.scope.matches(f, namespace, service, labels)]
            live = next((s for s in hits if not s.expired(self.today)), None)
            if live is not None:
                silenced.append(Silenced(f, live.reason, live.source, live.expires))
                continue
            if hits:
                f = replace(f, silence_expired=hits[0].to_dict())
            kept.append(f)
        return kept, silenced

    @property
    def empty(self) -> bool:
        return not (self.silences or self.overrides or self.disabled)

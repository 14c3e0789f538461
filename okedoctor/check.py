"""The check interface: one small class per concern, a pure function of the Facts.

A check declares its stable code, hop, default severity and the facts it needs; the runner
skips it (with the reason) when those facts are missing, so `run` only ever sees data it can
use. A check never calls an API and never prints: it yields Findings.

The class docstring is the check's documentation and must have three sections, printed by
`okedoctor checks explain CODE`::

    What it checks
        ...
    Why it breaks
        ...
    How to fix
        ...
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity, SkipKind

DOC_SECTIONS = ("What it checks", "Why it breaks", "How to fix")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d{3}$")
# The built-in checks' documentation page (docs/checks.md, one anchor per code). A site that
# mirrors the docs internally sets OKEDOCTOR_DOCS_URL to its own copy of that page.
DOCS_URL = "https://github.com/okedoctor/okedoctor/blob/main/docs/checks.md"
DOCS_URL_ENV = "OKEDOCTOR_DOCS_URL"


class CheckSkipped(Exception):  # noqa: N818 - it is a control-flow signal, not an error
    """Raised inside `run` when a fact the check needs turns out to be missing.

    `kind` keeps why (a denied or failed read makes the verdict unknown, docs/verdicts.md) when
    the check decides itself which of several facts it needs.
    """

    def __init__(self, reason: str, kind: SkipKind = SkipKind.NOT_OBSERVED):
        super().__init__(reason)
        self.kind = kind


class Check:
    code: ClassVar[str]
    name: ClassVar[str]
    hop: ClassVar[Hop]
    severity: ClassVar[Severity] = Severity.ERROR
    needs: ClassVar[tuple[str, ...]] = ("kubernetes",)
    # True for checks that observe an effect (a health status, a probe answer): their findings
    # are tied by the runner to a cause closer to the pod when one was found.
    symptom: ClassVar[bool] = False
    # A plugin's own documentation page for this check; built-in checks (OKD-*) need none.
    docs_url: ClassVar[str | None] = None

    def run(self, facts: Facts) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        title: str,
        *,
        evidence: dict[str, Any],
        fix: Fix,
        subject: str = "",
        severity: Severity | None = None,
        caused_by: str | None = None,
    ) -> Finding:
        return Finding(
            code=self.code,
            check=self.name,
            hop=self.hop,
            severity=severity or self.severity,
            title=title,
            evidence=evidence,
            fix=fix,
            subject=subject,
            symptom=self.symptom,
            root_cause=caused_by is None,
            caused_by=caused_by,
            docs=self.docs_link(),
        )

    # ---- documentation ------------------------------------------------------------------
    @classmethod
    def docs_link(cls) -> str:
        """The URL of this check's documentation: the plugin's own, else docs/checks.md#code."""
        if cls.docs_url:
            return cls.docs_url
        if not cls.code.startswith("OKD-"):
            return ""
        return f"{os.environ.get(DOCS_URL_ENV) or DOCS_URL}#{cls.code.lower()}"

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        return cls.doc().splitlines()[0] if cls.doc() else cls.name

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring's sections by heading; missing sections are absent."""
        sections: dict[str, str] = {}
        current: str | None = None
        for line in cls.doc().splitlines():
            if line.strip() in DOC_SECTIONS:
                current = line.strip()
                sections[current] = ""
            elif current:
                sections[current] += line.strip() + "\n"
        return {k: v.strip() for k, v in sections.items()}

    @classmethod
    def problems(cls) -> list[str]:
        """What is wrong with the check's declaration (empty when it is well formed)."""
        out = []
        for attr in ("code", "name", "hop"):
            if not hasattr(cls, attr):
                out.append(f"missing class attribute {attr!r}")
        if hasattr(cls, "code") and not CODE_RE.match(cls.code):
            out.append(f"code {cls.code!r} is not of the form PREFIX-NNN")
        if hasattr(cls, "hop") and not isinstance(cls.hop, Hop):
            out.append("hop is not an okedoctor.model.Hop")
        missing = [s for s in DOC_SECTIONS if s not in cls.doc_sections()]
        if missing:
            out.append(f"docstring lacks section(s): {', '.join(missing)}")
        return out


def subject_of(obj: dict[str, Any]) -> str:
    """`kind/namespace/name` (or `kind/name` for cluster-scoped objects) for a Finding's subject."""
    meta = obj.get("metadata") or {}
    kind = obj.get("kind", "").lower()
    ns = meta.get("namespace")
    return f"{kind}/{ns}/{meta.get('name')}" if ns else f"{kind}/{meta.get('name')}"


def first(iterable: Iterable[Any]) -> Any:
    it: Iterator[Any] = iter(iterable)
    return next(it, None)

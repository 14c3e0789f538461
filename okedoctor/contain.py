"""Running a plugin check (`--checks-dir`, entry points) so that it cannot break the run.

A plugin is code okedoctor did not ship or test. What is contained, per check:
- `sys.exit()` / `raise SystemExit` and any exception: the check is reported as failed;
- an endless or slow `run`: abandoned after the time bound, reported as not run (its hop is then
  unknown, never ok), and not started again for the other Services of a fleet run;
- `print()`: its stdout is discarded, so `-o json` stays one JSON document;
- yielding something that is not a well-formed Finding: the check is reported as failed;
- changing the facts: it gets a read-only view (okedoctor/frozen.py), so no other check sees it.
Not contained: `os._exit()`, signals, threads the plugin starts, writes to fd 1 or sys.__stdout__,
a C extension that crashes, and code that deliberately reaches past the view. An abandoned thread
keeps running until the process exits (Python cannot stop a thread): its CPU is lost to the run.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from okedoctor.frozen import ReadOnlyError, freeze
from okedoctor.model import Finding, Fix, Hop, Severity

DEFAULT_TIMEOUT_S = 5.0


class CheckFailed(Exception):  # noqa: N818 - carries the reason a plugin check is reported failed
    pass


class CheckTimedOut(Exception):  # noqa: N818
    pass


class ReadOnlyFacts:
    """The facts as a plugin sees them: every value it reads is frozen, no attribute can be set
    (on the facts, or on an object they hold, such as `facts.snapshot`)."""

    def __init__(self, facts: Any):
        object.__setattr__(self, "_facts", facts)

    def __getattr__(self, name: str) -> Any:
        return _view(getattr(self._facts, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise ReadOnlyError(f"the facts are read-only: cannot set {name}")


def _view(value: Any) -> Any:
    if callable(value) and not isinstance(value, type):
        return lambda *a, **kw: _view(value(*a, **kw))
    if dataclasses.is_dataclass(value) and not value.__dataclass_params__.frozen:  # type: ignore[union-attr]
        return ReadOnlyFacts(value)
    return freeze(value)


class _ThreadStdout:
    """sys.stdout for the whole process: writes from a contained check's thread are swallowed.

    Not an io.TextIOBase: its own isatty() and encoding would hide the real stream's (colours).
    """

    def __init__(self, real: TextIO):
        self.real = real
        self.muted: set[int] = set()

    def write(self, text: str) -> int:
        if threading.get_ident() in self.muted:
            return len(text)
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno... of the real stream
        return getattr(self.real, name)


def _router() -> _ThreadStdout:
    if not isinstance(sys.stdout, _ThreadStdout):
        sys.stdout = _ThreadStdout(sys.stdout)
    return sys.stdout


@dataclass
class _Outcome:
    findings: list[Finding] | None = None
    error: BaseException | None = None


def run_contained(run: Callable[[Any], Any], facts: Any, code: str, timeout_s: float) -> list[Finding]:
    """The check's findings; CheckFailed or CheckTimedOut (with the reason) when it misbehaved."""
    outcome = _Outcome()
    router = _router()

    def work() -> None:
        router.muted.add(threading.get_ident())
        try:
            outcome.findings = validated(run(ReadOnlyFacts(facts)), code)
        except BaseException as exc:  # noqa: BLE001 - SystemExit included: a plugin must not end the run
            outcome.error = exc

    worker = threading.Thread(target=work, name=f"check-{code}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise CheckTimedOut(f"check ran longer than {timeout_s:g} s and was abandoned")
    router.muted.discard(worker.ident or 0)
    if outcome.error is not None:
        raise _as_failure(outcome.error)
    return outcome.findings or []


def _as_failure(exc: BaseException) -> BaseException:
    if isinstance(exc, CheckFailed | ReadOnlyError):
        return CheckFailed(f"check {exc}" if isinstance(exc, ReadOnlyError) else str(exc))
    if isinstance(exc, SystemExit):
        return CheckFailed(f"check called sys.exit({exc.code!r})")
    return exc


def validated(results: Any, code: str) -> list[Finding]:
    """The findings a check yielded, or CheckFailed naming the first thing wrong with them."""
    out = []
    for item in results or ():
        if not isinstance(item, Finding):
            raise CheckFailed(f"check yielded a {type(item).__name__}, not a Finding")
        problem = _finding_problem(item, code)
        if problem:
            raise CheckFailed(f"check yielded a malformed Finding: {problem}")
        out.append(item)
    return out


def _finding_problem(f: Finding, code: str) -> str | None:
    if f.code != code:
        return f"code {f.code!r} is not the check's {code!r}"
    if not isinstance(f.hop, Hop) or not isinstance(f.severity, Severity) or not isinstance(f.fix, Fix):
        return "hop, severity or fix is not of its okedoctor.model type"
    if not isinstance(f.title, str) or not isinstance(f.subject, str) or not isinstance(f.evidence, dict):
        return "title and subject must be strings, evidence a dict"
    try:
        json.dumps(f.evidence, default=str)  # as the renderers write it
    except (TypeError, ValueError, RecursionError) as exc:
        return f"evidence is not JSON: {exc}"
    return None

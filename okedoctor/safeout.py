"""What every report passes through before any output: the redactor, control characters made
visible, and cluster names shell-quoted where a printed command holds them.

A report is printed to terminals (text, markdown), posted to chat (webhook), written to state and
metrics files. Any string in it may have come from the cluster or the cloud: a pod name or a
container's last-state reason from a hostile snapshot, an event message, a quoted HTTP body. Raw
ESC, OSC titles and links, C1 controls, NUL and BiDi overrides in those would drive the reader's
terminal or disguise a command, so they are shown as escapes (`\\x1b`, `\\u202e`) instead. A fix
command built from a name that needs quoting gets that name shell-quoted (ANSI-C `$'...'` when
it holds control characters), so what is printed is still one line that names the real object.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from okedoctor.actions import ActionCommand
from okedoctor.model import Finding, Fix, HopView, Report, Target
from okedoctor.redact import redact

# C0 and C1 controls, DEL, and the invisible marks that reorder or split what a terminal shows
# (BiDi embeddings, overrides and isolates, the Arabic letter mark, line/paragraph separators, BOM).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_LAYOUT = frozenset("\n\t")  # kept where a value is meant to span lines (a patch)
_TAB = frozenset("\t")
_SHELL_UNSAFE = re.compile(r"[^\w@%+=:,./-]", re.ASCII)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _shell_escape(ch: str) -> str:
    # In $'...', \xNN is one byte; a code point past ASCII needs \uNNNN to come out as UTF-8.
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every control character shown as an escape; newlines too unless multiline.

    A tab is kept: it moves the cursor and nothing else, and logs quoted as evidence (nslookup's
    `Server:\t\t10.96.5.5`) read as they were written."""
    keep = _LAYOUT if multiline else _TAB
    return _CONTROL.sub(lambda m: m.group(0) if m.group(0) in keep else _escape(m.group(0)), text)


def clean_text(text: str, *, multiline: bool = False) -> str:
    """A string from the cluster as it may be printed: redacted, then made printable."""
    if type(text) is str:
        return _cleaned(text, multiline)
    return printable(redact(text), multiline=multiline)


@functools.lru_cache(maxsize=1 << 15)
def _cleaned(text: str, multiline: bool) -> str:
    """clean_text of a plain string, remembered: a fleet report's evidence repeats the same names and
    addresses (every node's, in each of hundreds of Services' findings), each cleaned once."""
    return printable(redact(text), multiline=multiline)


def clean_value(value: Any) -> Any:
    """`value` (str, number, or nested dicts and lists of them) with every string cleaned, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_value(v) for v in value)
    return value


def shell_word(word: str) -> str:
    """`word` as one shell word: unchanged when safe, ANSI-C quoted ($'...') when it holds
    control characters (they must not reach the terminal raw), else single-quoted."""
    if word and not _SHELL_UNSAFE.search(word):
        return word
    if _CONTROL.search(word):
        body = "".join(_shell_escape(ch) if _CONTROL.match(ch) else ("\\" + ch if ch in "\\'" else ch)
                       for ch in word)
        return f"$'{body}'"
    return shlex.quote(word)


def quote_words(command: str, words: Iterable[str]) -> str:
    """`command` with each of `words` (cluster names that need quoting) shell-quoted where it
    stands: bare, or by closing and reopening the single or double quotes around it."""
    hostile = sorted({w for w in words if w and w in command}, key=len, reverse=True)
    if not hostile:
        return command
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(command):
        word = next((w for w in hostile if command.startswith(w, i)), None)
        if word is not None:
            q = shell_word(word)
            out.append(f"{quote}{q}{quote}" if quote else q)
            i += len(word)
            continue
        ch = command[i]
        if ch == "\\" and quote != "'" and i + 1 < len(command):
            out.append(command[i:i + 2])
            i += 2
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        out.append(ch)
        i += 1
    return "".join(out)


def needs_quoting(word: Any) -> bool:
    """A name a printed command must quote. Valid Kubernetes names never do; a name shorter than
    3 characters or without a letter or digit (a lone quote, a space) is left alone, because
    replacing it would rewrite the command's own syntax rather than the name."""
    # The regular expression first: most names are safe, and it rules them out in C.
    return (isinstance(word, str) and len(word) >= 3 and _SHELL_UNSAFE.search(word) is not None
            and any(ch.isalnum() for ch in word))


def _clean_command(command: str, words: frozenset[str]) -> str:
    """The printed form cleaned; a command rendered from an action keeps it (the request carries
    the names as the API wants them, the text as the shell wants them)."""
    text = clean_text(quote_words(command, words))
    return ActionCommand(text, command.action) if isinstance(command, ActionCommand) else text


def _clean_fix(fix: Fix, words: frozenset[str]) -> Fix:
    return Fix(summary=clean_text(fix.summary),
               commands=tuple(_clean_command(c, words) for c in fix.commands),
               patch=clean_text(fix.patch, multiline=True) if fix.patch else fix.patch)


def _clean_finding(f: Finding, words: frozenset[str]) -> Finding:
    return replace(f, title=clean_text(f.title), subject=clean_text(f.subject), evidence=clean_value(f.evidence),
                   fix=_clean_fix(f.fix, words),
                   caused_by=clean_text(f.caused_by) if f.caused_by else f.caused_by,
                   cause_unknown=clean_text(f.cause_unknown) if f.cause_unknown else f.cause_unknown)


def clean_report(report: Report, words: frozenset[str] = frozenset()) -> Report:
    """The report as it may leave the process. `words` are the cluster's names that need shell
    quoting (see Facts.unsafe_words); it is applied once, where the report is made."""
    report.findings = [_clean_finding(f, words) for f in report.findings]
    # A silenced finding is still printed (text, JSON, markdown): cleaned like the others.
    report.silenced = [replace(s, finding=_clean_finding(s.finding, words)) for s in report.silenced]
    report.skipped = [replace(s, check=clean_text(s.check), reason=clean_text(s.reason)) for s in report.skipped]
    report.context = clean_value(report.context)
    t = report.target
    report.target = Target(clean_text(t.namespace), clean_text(t.service),
                           url=clean_text(t.url) if t.url else t.url, route=clean_text(t.route) if t.route else t.route)
    if report.hops is not None:
        report.hops = {h: HopView(v.state, clean_text(v.reason)) for h, v in report.hops.items()}
    return report


def _object_words(obj: dict[str, Any]) -> Iterable[Any]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    yield meta.get("name")
    yield meta.get("namespace")
    for key, value in (meta.get("labels") or {}).items() if isinstance(meta.get("labels"), dict) else ():
        yield key
        yield value
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    yield spec.get("nodeName")
    tmpl = (spec.get("template") or {}).get("spec") if isinstance(spec.get("template"), dict) else None
    for pod_spec in (spec, tmpl if isinstance(tmpl, dict) else {}):
        for key in ("containers", "initContainers"):
            for c in pod_spec.get(key) or [] if isinstance(pod_spec.get(key), list) else ():
                yield c.get("name") if isinstance(c, dict) else None
    involved = obj.get("involvedObject")
    if isinstance(involved, dict):
        yield involved.get("name")


def unsafe_words(kubernetes: list[dict[str, Any]], oci: dict[str, Any] | None) -> frozenset[str]:
    """The names in a snapshot that a printed command would have to quote: object, namespace,
    container and node names, labels, and the ids and display names of OCI resources."""
    candidates = [w for obj in kubernetes for w in _object_words(obj)]
    for bodies in (oci or {}).values():
        for body in bodies if isinstance(bodies, list) else ():
            if isinstance(body, dict):
                candidates += [body.get(k) for k in ("id", "displayName", "name")]
    strings = [w for w in candidates if isinstance(w, str)]
    # Most clusters have no such name: one search over them all (joined by a safe character) says
    # so in C; only when it finds something is each name judged on its own.
    if not _SHELL_UNSAFE.search(",".join(strings)):
        return frozenset()
    return frozenset(w for w in strings if needs_quoting(w))

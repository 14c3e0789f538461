"""Message language: `--lang {en,ja}`, else the locale (LC_ALL, LC_MESSAGES, LANG).

English is the language checks write in. Another language is a catalog in `okedoctor/locale/`
(`ja.yaml`): the text report's labels by their English text, and the sentences checks write
(titles, fixes, why a hop was not judged) as patterns over the English with their translation.
`localize` translates a Report's sentences (every format shows them); `Translator.ui` the
labels of the text report. Codes, commands, object names and JSON keys never change.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources

import yaml

from okedoctor.model import Finding, HopView, Report

LANGS = ("en", "ja")
_LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")


def detect(explicit: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The language asked for, else the locale's when we have it, else English."""
    if explicit:
        return explicit
    for var in _LOCALE_VARS:
        value = environ.get(var, "")
        if value:  # the first one set decides, as in POSIX
            lang = value.split("_")[0].split(".")[0].lower()
            return lang if lang in LANGS else "en"
    return "en"


@dataclass(frozen=True)
class Translator:
    lang: str
    labels: Mapping[str, str]
    patterns: tuple[tuple[re.Pattern[str], str], ...]

    def ui(self, label: str) -> str:
        """A label of the text report ("ROOT CAUSE", "Internet"); itself when not in the catalog."""
        return self.labels.get(label, label)

    def text(self, sentence: str, depth: int = 0) -> str:
        """A sentence a check wrote; its named parts translated too when they are sentences."""
        if depth > 4 or not sentence:
            return sentence
        for pattern, template in self.patterns:
            m = pattern.fullmatch(sentence)
            if m:
                parts = {k: self.text(v, depth + 1) if v else "" for k, v in m.groupdict().items()}
                return template.format(**parts)
        return sentence

    def translates(self, sentence: str) -> bool:
        return any(p.fullmatch(sentence) for p, _ in self.patterns)


ENGLISH = Translator("en", {}, ())


@functools.cache
def translator(lang: str) -> Translator:
    if lang == "en":
        return ENGLISH
    source = resources.files("okedoctor") / "locale" / f"{lang}.yaml"
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    patterns = tuple((re.compile(m["en"]), m["ja"]) for m in doc.get("messages") or ())
    return Translator(lang, dict(doc.get("ui") or {}), patterns)


def localize(report: Report, lang: str) -> Report:
    """The report with its sentences in `lang`: titles, fix summaries, hop reasons, skip reasons."""
    tr = translator(lang)
    if tr is ENGLISH:
        return report
    hops = {h: HopView(v.state, tr.text(v.reason)) for h, v in report.hops.items()} if report.hops else report.hops
    return replace(report, findings=[_finding(f, tr) for f in report.findings], hops=hops,
                   skipped=[replace(s, reason=tr.text(s.reason)) for s in report.skipped])


def _finding(f: Finding, tr: Translator) -> Finding:
    return replace(f, title=tr.text(f.title), fix=replace(f.fix, summary=tr.text(f.fix.summary)))

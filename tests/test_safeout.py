"""okedoctor/safeout.py: what every report passes through before any output."""

from __future__ import annotations

import subprocess

import pytest

from okedoctor.model import Finding, Fix, Hop, Report, Severity, Target
from okedoctor.safeout import clean_report, clean_text, printable, quote_words, shell_word


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("\x1b]8;;https://evil\x1b\\link", "\\x1b]8;;https://evil\\x1b\\link"),
    ("a\x00b\x9bc\x7f", "a\\x00b\\x9bc\\x7f"),
    ("\u202eexe.txt\u2066", "\\u202eexe.txt\\u2066"),
    ("line one\nline two\r", "line one\\x0aline two\\x0d"),
    ("ünïcode and 日本語 stay", "ünïcode and 日本語 stay"),
])
def test_control_characters_are_shown_as_escapes(raw, shown):
    assert printable(raw) == shown
    assert printable(shown) == shown  # already printable: unchanged


def test_a_patch_keeps_its_lines_but_not_its_escapes():
    assert printable("spec:\n\tx: \x1b[2J", multiline=True) == "spec:\n\tx: \\x1b[2J"


def test_clean_text_redacts_then_escapes():
    assert clean_text("password=hunter2\x1b[0m") == "password=<redacted>"
    assert clean_text("Back-off\x1b[31m pulling") == "Back-off\\x1b[31m pulling"


@pytest.mark.parametrize("word", ["app-7d9f8b6c5d-k2x8p", "10.0.0.1:8080", "ocid1.instance.oc1..aaaa"])
def test_ordinary_names_are_not_quoted(word):
    assert shell_word(word) == word


@pytest.mark.parametrize("word", ["a b", "x;rm -rf ~", "it's", "$(id)", "`id`", "",
                                  "esc\x1b]0;t\x07", "bidi\u202e", "c1\x9b2J", "q'\x1b"])
def test_a_quoted_word_reaches_a_program_exactly(word):
    quoted = shell_word(word)
    assert printable(quoted) == quoted  # nothing raw on the terminal
    done = subprocess.run(["bash", "-c", f'printf "%s" {quoted}'], capture_output=True, timeout=10, check=True)
    assert done.stdout.decode() == word


def test_names_are_quoted_bare_and_inside_single_and_double_quotes():
    name = "db;id"
    command = f"kubectl logs {name} -p '{{\"name\": \"{name}\"}}' --label=\"x={name}\""
    out = quote_words(command, {name})
    done = subprocess.run(["bash", "-c", f'printf "%s\\0" {out.removeprefix("kubectl ")}'], capture_output=True,
                          timeout=10, check=True)
    assert done.stdout.decode().split("\0")[:-1] == ["logs", name, "-p", f'{{"name": "{name}"}}', f"--label=x={name}"]


def test_a_report_is_cleaned_everywhere_a_string_can_come_from_the_cluster():
    pod = "p;\x1b[2J"
    finding = Finding(code="OKD-X-1", check="x", hop=Hop.POD, severity=Severity.ERROR,
                      title=f"pod {pod} failing", subject=f"pod/default/{pod}",
                      evidence={"message": "token=abc123\x07", pod: ["Bearer abcdefgh12345678"]},
                      fix=Fix(summary=f"restart {pod}", commands=(f"kubectl delete pod {pod}",),
                              patch="a:\n  b: \x1b[0m"))
    report = Report(target=Target("default", "app"), context={"cluster": "c\u202e"}, findings=[finding])
    out = clean_report(report, frozenset({pod})).to_dict()
    f = out["findings"][0]
    assert f["title"] == "pod p;\\x1b[2J failing" and f["subject"] == "pod/default/p;\\x1b[2J"
    assert f["evidence"] == {"message": "token=<redacted>", "p;\\x1b[2J": ["Bearer <redacted>"]}
    assert f["fix"]["commands"] == ["kubectl delete pod $'p;\\x1b[2J'"]
    assert f["fix"]["patch"] == "a:\n  b: \\x1b[0m"
    assert out["context"] == {"cluster": "c\\u202e"}


def test_a_name_that_is_only_shell_syntax_is_not_replaced_in_our_own_commands():
    from okedoctor.safeout import unsafe_words

    objects = [{"kind": "Pod", "metadata": {"name": "'", "namespace": "default", "labels": {"a": " "}}},
               {"kind": "Pod", "metadata": {"name": "web;id", "namespace": "default"}}]
    assert unsafe_words(objects, None) == frozenset({"web;id"})

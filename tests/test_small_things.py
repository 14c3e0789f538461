"""The small things a tired person hits (issue #16 item 6): a typo in the Service name, shell
completion, --color, snapshot over an existing file, a manifest given to --from, live-only flags
with --from, the kubectl plugin's help, help text on every option."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.conftest import SCENARIOS_DIR
from tests.conftest import run_main as run

STALE = str(SCENARIOS_DIR / "stale-healthcheck-port.yaml")
HEALTHY = str(SCENARIOS_DIR / "healthy-nlb.yaml")
BIN = Path(sys.executable).parent


def test_a_typo_in_the_service_name_gets_did_you_mean_and_the_exposed_services(capsys):
    code, _, err = run(["diagnose", "svc/ap", "--from", HEALTHY], capsys)
    assert code == 64 and err.count("\n") == 1
    assert "service default/ap is not in" in err and "did you mean svc/app?" in err
    assert "exposed Services in default: app (LoadBalancer)" in err


def complete(words: str, env: dict | None = None) -> list[str]:
    """What bash's TAB offers after `words` (click's completion protocol, as the script runs it)."""
    parts = words.split(" ")
    out = subprocess.run([str(BIN / "okedoctor")], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **(env or {}), "_OKEDOCTOR_COMPLETE": "bash_complete",
                              "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)})
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return [line.split(",", 1)[1] for line in out.stdout.splitlines() if "," in line]


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "#compdef okedoctor"),
                                           ("fish", "complete --no-files --command okedoctor")])
def test_completion_scripts(shell, marker, capsys):
    code, out, _ = run(["completion", shell], capsys)
    assert code == 0 and marker in out and "_OKEDOCTOR_COMPLETE" in out


def test_tab_completes_services_scenarios_and_check_codes():
    assert complete(f"okedoctor diagnose --from {STALE} svc/") == ["svc/app"]
    assert complete("okedoctor demo stale-h") == ["stale-healthcheck-port"]
    assert complete("okedoctor scenario expand node-not-") == ["node-not-added-to-backends", "node-not-ready"]
    assert complete("okedoctor checks explain OKD-LB-00")[:2] == ["OKD-LB-001", "OKD-LB-002"]
    assert complete("okedoctor checks explain health-check-port") == ["health-check-port-not-served"]
    assert "OKD-INET-001" in complete("okedoctor diagnose --exclude OKD-INET")
    # No cluster to ask: nothing offered, and nothing printed into the command line.
    assert complete("okedoctor diagnose svc/", {"KUBECONFIG": "/nonexistent"}) == []


@pytest.mark.parametrize("flag, escapes", [("--color=always", True), ("--color=never", False), ("--color=auto", False),
                                           (None, False)])
def test_color_flag(flag, escapes, capsys):
    code, out, _ = run(["diagnose", "--from", STALE, *([flag] if flag else [])], capsys)
    assert code == 2 and ("\x1b[" in out) is escapes


def test_snapshot_does_not_overwrite_a_file_without_force(tmp_path, capsys):
    kept = tmp_path / "incident.yaml"
    kept.write_text("evidence from the first look\n")
    code, _, err = run(["snapshot", "svc/app", "-f", str(kept)], capsys)
    assert code == 64 and "exists; pass --force to overwrite it" in err
    assert kept.read_text() == "evidence from the first look\n"


@pytest.mark.parametrize("content, target", [
    ("apiVersion: v1\nkind: Service\nmetadata: {name: shop}\nspec: {type: LoadBalancer}\n", "svc/shop"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Service\n"
     "metadata: {name: web}\n", "svc/NAME"),
    ("apiVersion: v1\nkind: List\nitems: []\n", "svc/NAME"),
])
def test_a_kubernetes_manifest_given_to_from_says_how_to_make_a_snapshot(tmp_path, content, target, capsys):
    path = tmp_path / "manifest.yaml"
    path.write_text(content)
    code, _, err = run(["diagnose", "--from", str(path)], capsys)
    assert code == 64 and err.count("\n") == 1
    assert "is not a snapshot but a Kubernetes manifest" in err
    assert f"okedoctor snapshot {target} -f incident.yaml" in err


@pytest.mark.parametrize("argv", [["--context", "prod"], ["--kubeconfig", "/k"], ["--region", "eu-frankfurt-1"]])
def test_live_only_flags_with_from_are_an_error(argv, capsys):
    for command in (["diagnose"], ["report"]):
        code, out, err = run([*command, "--from", STALE, *argv], capsys)
        assert code == 64 and out == "" and f"{argv[0]} is for a live run and --from reads a file" in err


def test_kubeconfig_from_the_environment_is_fine_with_from(monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    code, _, _ = run(["diagnose", "--from", STALE], capsys)
    assert code == 2


def test_the_kubectl_plugin_help_says_kubectl_okedoctor():
    out = subprocess.run([str(BIN / "kubectl-okedoctor"), "diagnose", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("Usage: kubectl okedoctor diagnose")
    out = subprocess.run([str(BIN / "okedoctor"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("Usage: okedoctor")


def test_every_option_has_help_text():
    from okedoctor.cli import cli
    from tests.test_formats import all_commands

    missing = [f"{' '.join(path)} {p.opts[-1]}" for path, command in all_commands(cli) for p in command.params
               if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert missing == []

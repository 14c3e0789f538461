"""Terminal escapes from the cluster never reach stdout raw (issue #13 item 8), and a fix command
built from a hostile name is still one line that names the real object when a shell runs it."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from okedoctor.snapshot import dump_snapshot, load_snapshot, snapshot_from_dict
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

POD = "app-7d9f8b6c5d-k2x8p"
# An OSC title, an OSC-8 link, a CSI clear-screen, a C1 CSI, a BiDi override and shell syntax. No "/"
# (another path segment on the API); "app-0" sorts first, so live and file name this pod.
HOSTILE_POD = "app-0k2x8p\x1b]0;owned\x07\x1b]8;;https:evil.example\x1b\\x\x1b]8;;\x1b\\\u202e;id\x9b2J"
HOSTILE_TEXT = "Error\x1b[2J\x1b]0;pwned\x07\x00\x9b31m\u202egnp.exe\u2066"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def hostile(name: str):
    """A shipped scenario whose first pod has a hostile name, and hostile text in every container's
    last-state reason, every event and waiting message, and every quoted HTTP body."""
    doc = json.loads(json.dumps(load_snapshot(SCENARIOS_DIR / f"{name}.yaml").to_dict()).replace(
        POD, json.dumps(HOSTILE_POD)[1:-1]))
    doc.pop("expect", None)
    snap = snapshot_from_dict(doc)
    snap.kind = "Snapshot"
    for obj in snap.kubernetes:
        if obj["kind"] == "Event":
            obj["message"] = f"{obj.get('message', '')} {HOSTILE_TEXT}"
        for st in (obj.get("status") or {}).get("containerStatuses") or [] if obj["kind"] == "Pod" else []:
            term = (st.get("lastState") or {}).get("terminated")
            if term:
                term["reason"] = term.get("reason", "") + HOSTILE_TEXT
            waiting = (st.get("state") or {}).get("waiting")
            if waiting and waiting.get("message"):
                waiting["message"] += HOSTILE_TEXT
    for live in snap.live.get("containers", {}).values():
        for answer in (live.get("localhost") or {}).values():
            if "body" in answer:
                answer["body"] = HOSTILE_TEXT + answer["body"]
    for answer in (snap.live.get("internet") or {}).values():
        if "body" in answer:
            answer["body"] = HOSTILE_TEXT + answer["body"]
    return snap


def _outputs(argv: list[str]) -> dict[str, str]:
    out = {}
    for fmt in ("text", "markdown", "json"):
        run = run_cli(*argv, "-o", fmt)
        assert run.code == 2, run.stderr
        out[fmt] = run.stdout + run.stderr
    return out


def _assert_printable(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        assert RAW.findall(text) == [], fmt


def _logs_command(text: str) -> str:
    [line] = [ln for ln in text.splitlines() if "$ kubectl -n default logs" in ln]
    return line.split("$ ", 1)[1]


def _shell_words(command: str) -> list[str]:
    # The printed command, run by bash with kubectl standing in as a function that prints its args.
    script = 'kubectl() { printf "%s\\0" "$@"; }\n' + command
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=10, check=True)
    return done.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize("name", ["crashloop-missing-env", "app-500-while-ready", "image-pull-unauthorized"])
def test_escapes_from_the_cluster_never_reach_stdout_raw_from_a_file(name, tmp_path):
    path = tmp_path / "hostile.json"
    dump_snapshot(hostile(name), path)
    outputs = _outputs(["diagnose", "--from", str(path)])
    _assert_printable(outputs)
    assert "\\x1b" in outputs["text"]  # shown as an escape, not dropped: the reader sees something is off


def test_a_fix_command_built_from_a_hostile_pod_name_runs_as_one_command_naming_that_pod(tmp_path):
    path = tmp_path / "hostile.json"
    dump_snapshot(hostile("crashloop-missing-env"), path)
    text = run_cli("diagnose", "--from", str(path), "-o", "text").stdout
    command = _logs_command(text)
    assert _shell_words(command) == ["-n", "default", "logs", HOSTILE_POD, "-c", "web", "--previous", "--tail=50"]


def test_escapes_never_reach_stdout_raw_live(sim_env, tmp_path):
    sim_env(hostile("crashloop-missing-env"), tmp_path / "sim")
    outputs = _outputs(["diagnose", "svc/app"])
    _assert_printable(outputs)
    assert _shell_words(_logs_command(outputs["text"]))[3] == HOSTILE_POD
    fleet = run_cli("report", "-n", "default", "-o", "text")
    assert fleet.code == 2, fleet.stderr
    _assert_printable({"report": fleet.stdout + fleet.stderr})


def test_an_error_line_quoting_the_file_is_one_printable_line(tmp_path):
    snap = hostile("crashloop-missing-env")
    svc = next(o for o in snap.kubernetes if o["kind"] == "Service")
    svc["metadata"]["name"] = "app\x1b]0;owned\x07\u202e"
    path = tmp_path / "hostile.json"
    dump_snapshot(snap, path)
    run = run_cli("diagnose", "svc/other", "--from", str(path))
    assert run.code == 64
    assert "exposed Services in default: app\\x1b]0;owned\\x07\\u202e (LoadBalancer)" in run.stderr
    assert RAW.findall(run.stderr) == [] and run.stderr.count("\n") == 1

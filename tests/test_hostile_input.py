"""Each hostile input of issue #13 item 6 (and 9b, 9c): one line, a documented exit code, no
traceback, in bounded time and memory."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
import yaml

from okedoctor.docfile import MAX_DEPTH, MAX_INPUT_BYTES
from tests.conftest import SCENARIOS_DIR
from tests.conftest import run_main as run

HEALTHY = SCENARIOS_DIR / "healthy-nlb.yaml"


def one_line_64(code, err):
    assert code == 64 and "Traceback" not in err, (code, err)
    (line,) = err.strip().splitlines()
    assert line.startswith("okedoctor: ")
    return line


def healthy_doc() -> dict:
    from okedoctor.snapshot import load_snapshot

    return load_snapshot(HEALTHY).to_dict()


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "snap.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    line = one_line_64(*run(["diagnose", "--from", str(fifo)], capsys)[::2])
    assert "not a regular file" in line and time.monotonic() - started < 2


def test_dev_zero_is_refused_without_reading_it(capsys):
    line = one_line_64(*run(["diagnose", "--from", "/dev/zero"], capsys)[::2])
    assert "not a regular file" in line


def test_a_file_over_the_size_bound_is_refused_unread(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: no disk used, no time spent
        fh.truncate(MAX_INPUT_BYTES + 1)
    line = one_line_64(*run(["diagnose", "--from", str(big)], capsys)[::2])
    assert f"at most {MAX_INPUT_BYTES}" in line


def test_a_yaml_bomb_under_context_is_refused_in_milliseconds(tmp_path, capsys):
    levels = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("apiVersion: okedoctor/v1\nkind: Snapshot\ncontext:\n" + "".join(f"  {x}\n" for x in levels))
    started = time.monotonic()
    line = one_line_64(*run(["diagnose", "--from", str(bomb)], capsys)[::2])
    assert "YAML aliases expanded" in line and time.monotonic() - started < 2


@pytest.mark.parametrize("text, message", [
    ('{"apiVersion": "okedoctor/v1", "kind": "Snapshot", "context": {"n": ' + "9" * 5000 + "}}", "4300 digits"),
    ("apiVersion: okedoctor/v1\nkind: Snapshot\ncontext: {n: " + "9" * 5000 + "}\n", "4300 digits"),
    ('{"apiVersion": "okedoctor/v1", "context": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
    ("apiVersion: okedoctor/v1\ncontext: " + "[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
    ("apiVersion: okedoctor/v1\ncontext: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
     f"deeper than {MAX_DEPTH}"),
    ("a: &a [*a]\n", "refers to itself"),
])
def test_huge_integers_and_deep_nesting_in_a_snapshot(tmp_path, capsys, text, message):
    f = tmp_path / "snap.yaml"
    f.write_text(text)
    assert message in one_line_64(*run(["diagnose", "--from", str(f)], capsys)[::2])


@pytest.mark.parametrize("where, value, message", [
    (("kubernetes", 0, "kind"), ["Service"], "apiVersion and kind must be strings"),
    (("kubernetes", 0, "metadata", "name"), {"a": 1}, "metadata.name must be a scalar"),
    (("kubernetes", 0, "metadata", "namespace"), 7, "metadata.namespace must be a string"),
    (("kubernetes", 0, "metadata", "labels"), {"app": ["web"]}, "labels must map strings to strings"),
    (("oci", "networkLoadBalancers", 0, "id"), {"x": 1}, "id must be a string"),
    (("oci", "networkLoadBalancers", 0), "nlb", "must list mappings"),
    (("target", "service"), ["app"], "target.service must be a scalar"),
])
def test_non_scalar_identity_fields_are_refused(tmp_path, capsys, where, value, message):
    doc = healthy_doc()
    holder = doc
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = value
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(doc))
    assert message in one_line_64(*run(["diagnose", "--from", str(f)], capsys)[::2])


def test_a_node_address_that_is_not_a_mapping_is_refused(tmp_path, capsys):
    doc = healthy_doc()
    node = next(o for o in doc["kubernetes"] if o["kind"] == "Node")
    node["status"]["addresses"] = ["10.0.10.2"]
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(doc))
    assert "status.addresses must be a list of mappings" in one_line_64(
        *run(["diagnose", "--from", str(f)], capsys)[::2])


def test_a_field_of_the_wrong_type_deeper_in_an_object_is_one_line(tmp_path, capsys):
    doc = healthy_doc()
    nlb = doc["oci"]["networkLoadBalancers"][0]
    next(iter(nlb["backendSets"].values()))["backends"] = [None]
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(doc))
    line = one_line_64(*run(["diagnose", "--from", str(f)], capsys)[::2])
    assert "a field does not have the type the API gives it (AttributeError in lbsearch." in line


@pytest.mark.parametrize("state", [
    '{"version": 1, "services": {"default/app": {"k": {"code": ["OKD-POD-001"], "title": "t"}}}}',
    '{"version": 1, "services": {"default/app": {"k": {"title": "no code"}}}}',
    '{"version": 1, "lastRun": 5, "services": {}}',
    '{"version": 1, "services": {"default/app": {"k": {"code": "X-001", "title": "t", "firstSeen": 1}}}}',
    '{"version": 1, "services": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"version": 1, "services": {}, "n": ' + "9" * 5000 + "}",
])
def test_a_state_file_of_valid_json_with_wrong_types_is_one_line(tmp_path, capsys, state):
    f = tmp_path / "state.json"
    f.write_text(state)
    line = one_line_64(*run(["report", "--from", str(HEALTHY), "--state", str(f)], capsys)[::2])
    assert f"state file {f}" in line and "delete it to start afresh" in line


def test_a_deep_kubeconfig_is_one_line(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "kubeconfig"
    cfg.write_text("apiVersion: v1\nclusters: " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.setenv("KUBECONFIG", str(cfg))
    line = one_line_64(*run(["diagnose", "svc/app"], capsys)[::2])
    assert str(cfg) in line


def test_a_bad_webhook_url_is_refused_before_the_report_runs(tmp_path, capsys):
    state = tmp_path / "state.json"
    code, out, err = run(["report", "--from", str(HEALTHY), "--state", str(state), "--webhook", "http://[::1"],
                         capsys)
    assert one_line_64(code, err) == "okedoctor: --webhook: not a valid URL"
    assert out == "" and not state.exists()  # nothing ran: no report printed, no state half-saved


@pytest.mark.parametrize("argv", [["diagnose", "svc/."], ["diagnose", "svc/.."], ["diagnose", "svc/App"],
                                  ["diagnose", "svc/" + "a" * 64], ["snapshot", "svc/..", "-f", "x.yaml"],
                                  ["diagnose", "svc/app", "-n", ".."], ["diagnose", "svc/app", "-n", ""],
                                  ["report", "-n", ""], ["diagnose", "--from", str(HEALTHY), "-n", ""]])
def test_targets_and_namespaces_must_be_kubernetes_names(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # refused before it is even looked for
    line = one_line_64(*run(argv, capsys)[::2])
    assert "is not a valid name" in line


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_a_kill_during_the_metrics_write_leaves_no_temporary_file(tmp_path, capsys, monkeypatch, sig, code):
    from okedoctor.fleet import state as fleet_state

    def replace_after_a_kill(src, dst):
        os.kill(os.getpid(), sig)  # arrives while the temporary file exists, before the rename
        time.sleep(5)

    monkeypatch.setattr(fleet_state.os, "replace", replace_after_a_kill)
    assert threading.current_thread() is threading.main_thread()
    metrics = tmp_path / "okedoctor.prom"
    got, _, err = run(["report", "--from", str(HEALTHY), "--prometheus-file", str(metrics)], capsys)
    assert got == code and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or sig is not signal.SIGTERM  # handler restored


def test_yaml_anchors_within_the_bounds_still_load(tmp_path, capsys):
    doc = healthy_doc()
    text = yaml.safe_dump(doc).replace("context:\n", "extraAnchors:\n  base: &base {a: 1}\n  use: *base\ncontext:\n", 1)
    f = tmp_path / "snap.yaml"
    f.write_text(text)
    code, _, err = run(["diagnose", "--from", str(f)], capsys)
    assert code == 0, err

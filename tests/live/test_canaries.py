"""Canaries: distinctive secrets planted in every place issue #13 found one leaking, then looked
for in every output: diagnose (text, JSON, markdown) from the file and live, the snapshot written
for a ticket and its diagnosis, and `report` (every format, --state, --prometheus-file and the
webhook body, posted to a loopback receiver)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from okedoctor.redact import MASK
from okedoctor.snapshot import dump_snapshot, load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.fleet.test_report_offline import Receiver
from tests.live.conftest import run_cli

USER_DATA = base64.b64encode(b"#cloud-config\nchpasswd:\n  list: root:CANARYUSERDATA01\n").decode()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJKV1QifQ.CANARYJWTSIG02abcdef"
ARGS = ["--db-password", "CANARYARGPW03", "--token=CANARYARGTOK04"]
ANNOTATIONS = {"example.com/cache-url": "redis://:CANARYANNDSN05@cache:6379/0",
               "example.com/upstream-auth": "Bearer CANARYANNBEARER06",
               "oci.oraclecloud.com/canary-note": "api_key=CANARYANNAPI07"}
EVENT_TAIL = (" (cache redis://:CANARYEVDSN08@cache:6379, Authorization: Bearer CANARYEVBEARER09, id " + JWT
              + ", password=CANARYEVPW10, signature=\"CANARYEVSIG11==\")")
LINES = ["using ghp_CANARYGHP12abcdefghijklmnopqrstuv for the repo", "slack xoxb-1234567890-CANARYXOXB13 posted",
         "charged with sk_live_CANARYSTRIPE14abcdef", "mysql -h db -uroot -pCANARYMYSQL15 app",
         "cache at redis://:CANARYREDIS16@cache:6379/0", "docker login -u 'ns/bob' -p CANARYDOCKER17 ocir.io",
         "the registry token for ocir.io: CANARYPROSE18 (expires soon)"]
TEXT = "\n".join(LINES) + "\n"
CANARIES = ["CANARYUSERDATA01", USER_DATA[:24], "CANARYJWTSIG02", "CANARYARGPW03", "CANARYARGTOK04", "CANARYANNDSN05",
            "CANARYANNBEARER06", "CANARYANNAPI07", "CANARYEVDSN08", "CANARYEVBEARER09", "CANARYEVPW10",
            "CANARYEVSIG11", "CANARYGHP12", "CANARYXOXB13", "CANARYSTRIPE14", "CANARYMYSQL15", "CANARYREDIS16",
            "CANARYDOCKER17", "CANARYPROSE18", "CANARYTAG19", "CANARYTAG20", "CANARYEXTMETA21"]


def _plant_kubernetes(objects: list[dict]) -> None:
    for obj in objects:
        kind = obj["kind"]
        if kind in ("Service", "Deployment", "ReplicaSet", "Pod", "Node"):
            obj["metadata"].setdefault("annotations", {}).update(ANNOTATIONS)
        if kind == "Event":
            obj["message"] = (obj.get("message") or "") + EVENT_TAIL
        spec = obj.get("spec") or {}
        pod_spec = spec if kind == "Pod" else (spec.get("template") or {}).get("spec") or {}
        for c in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
            c["args"] = [*(c.get("args") or []), *ARGS]
        for st in ((obj.get("status") or {}).get("containerStatuses") or []) if kind == "Pod" else []:
            waiting = (st.get("state") or {}).get("waiting")
            if waiting and waiting.get("message"):
                waiting["message"] += EVENT_TAIL


def _plant_oci(oci: dict) -> None:
    for bodies in oci.values():
        for body in bodies if isinstance(bodies, list) else []:
            body["freeformTags"] = {"db-password": "CANARYTAG19"}
            body["definedTags"] = {"ops": {"owner": "CANARYTAG20"}}
    for inst in oci.get("instances") or []:
        inst["metadata"] = {"user_data": USER_DATA, "ssh_authorized_keys": "ssh-ed25519 AAAA canary"}
        inst["extendedMetadata"] = {"app": {"config": "CANARYEXTMETA21"}}


def canary_snapshot(name: str):
    """A shipped scenario with a canary in every field the adversarial run found leaking."""
    snap = load_snapshot(SCENARIOS_DIR / f"{name}.yaml")
    snap.expect = None
    _plant_kubernetes(snap.kubernetes)
    _plant_oci(snap.oci)
    for live in snap.live.get("containers", {}).values():
        live["logs"] = (live.get("logs") or "") + TEXT
        if "previousLogs" in live:
            live["previousLogs"] += TEXT
        for answer in (live.get("localhost") or {}).values():
            if "body" in answer:
                answer["body"] = TEXT + answer["body"]
    for answer in (snap.live.get("internet") or {}).values():
        if "body" in answer:
            answer["body"] = TEXT + answer["body"]
    return snap


def found(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


# Each scenario makes the report quote a planted field: a pull failure its waiting message, a
# crash loop its previous log, a 500 the in-pod and internet bodies and the log tail.
QUOTED = {"image-pull-unauthorized": "CANARYEVDSN08", "crashloop-missing-env": "CANARYMYSQL15",
          "app-500-while-ready": "CANARYDOCKER17"}


def test_the_canaries_are_where_the_outputs_would_quote_them():
    # The planting must be real: without redaction the reports would quote these canaries.
    from okedoctor.redact import redact

    for name, canary in QUOTED.items():
        raw = json.dumps(copy.deepcopy(canary_snapshot(name)).to_dict())
        assert canary in raw and canary not in redact(TEXT + EVENT_TAIL)


def _report_outputs(source: list[str], tmp_path: Path, rx: Receiver) -> str:
    seen = []
    for fmt in ("text", "json", "markdown"):
        state, prom = tmp_path / f"state-{fmt}.json", tmp_path / f"metrics-{fmt}.prom"
        run = run_cli("report", *source, "-o", fmt, "--state", str(state), "--prometheus-file", str(prom),
                      "--webhook", rx.url)
        assert run.code in (1, 2), run.stderr
        seen += [run.stdout, run.stderr, state.read_text(), prom.read_text()]
    assert rx.bodies, "the webhook got no message"
    return "\n".join(seen) + json.dumps(rx.bodies)


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_no_canary_reaches_any_output_from_a_file(name, tmp_path):
    path = tmp_path / "canaries.json"
    dump_snapshot(canary_snapshot(name), path)
    outputs = []
    for fmt in ("text", "json", "markdown"):
        run = run_cli("diagnose", "--from", str(path), "-o", fmt)
        assert run.code == 2, run.stderr
        outputs += [run.stdout, run.stderr]
    assert MASK in outputs[2]  # the JSON report quotes the planted field, masked
    rx = Receiver()
    try:
        outputs.append(_report_outputs(["--from", str(path), "-A"], tmp_path, rx))
    finally:
        rx.close()
    assert found("\n".join(outputs)) == []


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_no_canary_reaches_any_output_live_nor_the_snapshot(name, sim_env, tmp_path):
    sim_env(canary_snapshot(name), tmp_path / "sim")
    outputs = []
    for fmt in ("text", "json", "markdown"):
        run = run_cli("diagnose", "svc/app", "-o", fmt)
        assert run.code == 2, run.stderr
        outputs += [run.stdout, run.stderr]
    assert MASK in outputs[2]
    snap = tmp_path / "ticket.yaml"
    written = run_cli("snapshot", "svc/app", "-f", str(snap))
    assert written.code == 0, written.stderr
    outputs += [snap.read_text(), written.stderr]
    again = run_cli("diagnose", "--from", str(snap), "-o", "json")
    assert again.code == 2 and again.json["findings"][0]["code"] == run_cli("diagnose", "svc/app", "-o",
                                                                              "json").json["findings"][0]["code"]
    outputs.append(again.stdout)
    rx = Receiver()
    try:
        outputs.append(_report_outputs(["-n", "default"], tmp_path, rx))
    finally:
        rx.close()
    assert found("\n".join(outputs)) == []

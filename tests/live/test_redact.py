"""Credential-looking strings never survive redaction; ordinary log lines do. Snapshots hold no
credential from env values, kubectl's last-applied annotation, Secret metadata, logs or bodies."""

from __future__ import annotations

import copy
import json

import pytest

from okedoctor.live.kube import scrub_object, strip_secret_values
from okedoctor.live.redact import MASK, redact
from okedoctor.snapshot import dump_snapshot, load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli

LEAKS = [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9abcdef123", "eyJhbGciOiJSUzI1NiJ9abcdef123"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA=="),
    ("dial postgres://app:s3cr3t-Pa55@db.internal:5432/app", "s3cr3t-Pa55"),
    ("GET https://admin:hunter2@registry.example.com/v2/", "hunter2"),
    ("login password=hunter2 user=bob", "hunter2"),
    ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("client_secret: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ('{"api_key": "AKXYZ-1234567890"}', "AKXYZ-1234567890"),
    ("using apiKey=abc.def.ghi", "abc.def.ghi"),
    ("token=ghp_0123456789abcdefghij", "ghp_0123456789abcdefghij"),
    ("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpM", "SflKxwRJSMeKKF2QT4fwpM"),
    ("keyId=ST$eyJraWQiOiJhc3dfb2MxXzIwMjQi.long-oci-session-token", "long-oci-session-token"),
    ("aws key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE"),
]


@pytest.mark.parametrize(("line", "secret"), LEAKS, ids=[s for _, s in LEAKS])
def test_credentials_are_masked(line, secret):
    out = redact(line)
    assert secret not in out
    assert MASK in out


def test_private_key_blocks_are_masked_whole():
    text = ("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx\nZm9vYmFy\n-----END RSA PRIVATE KEY-----\n"
            "after\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n")  # truncated by the log tail
    out = redact(text)
    assert "MIIEpAIBAAKCAQEAx" not in out and "b3BlbnNzaC1rZXktdjE" not in out
    assert out.startswith("before\n") and "\nafter\n" in out


@pytest.mark.parametrize("line", [
    "2026-11-01T09:00:04Z INFO listening on 0.0.0.0:8080",
    "GET /healthz 200 1.2ms",
    "connecting to postgres://db.internal:5432/app",
    "error: connection refused (tokenizer ready)",
])
def test_ordinary_lines_are_kept(line):
    assert redact(line) == line


def test_empty_and_none_pass_through():
    assert redact("") == "" and redact(None) is None


# ---- objects: env values, last-applied, Secret metadata --------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ENV = [
    {"name": "PORT", "value": "8080"},
    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "DB_PASSWORD"}}},
    {"name": "DATABASE_URL", "value": "postgres://app:ENVURLLEAK@db:5432/app"},
    {"name": "DB_PASS", "value": "ENVPASSLEAK"},
    {"name": "PGPWD", "value": "ENVPWDLEAK"},
    {"name": "SLACK_WEBHOOK", "value": "https://hooks.slack.com/services/T000/B000/WEBHOOKLEAK"},
    {"name": "NOTIFY_URL", "value": "https://hooks.slack.com/services/T000/B000/NOTIFYLEAK"},
    {"name": "AUTH_HEADER", "value": "Bearer " + JWT},
    {"name": "UPSTREAM_HEADERS", "value": "Authorization: Bearer HEADERSLEAK"},
    {"name": "API_TOKEN", "value": "ENVTOKENLEAK"},
    {"name": "SESSION_COOKIE", "value": "ENVCOOKIELEAK"},
]
ENV_LEAKS = ["ENVURLLEAK", "ENVPASSLEAK", "ENVPWDLEAK", "WEBHOOKLEAK", "NOTIFYLEAK", "dozjgNryP4J3jVmNHl0w5N",
             "HEADERSLEAK", "ENVTOKENLEAK", "ENVCOOKIELEAK"]
APPLIED_ENV = json.dumps({"spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": "LASTAPPLIEDLEAK"}]}]}})


def _template(kind: str) -> dict:
    spec = {"containers": [{"name": "web", "env": copy.deepcopy(ENV)}],
            "initContainers": [{"name": "migrate", "env": copy.deepcopy(ENV)}]}
    meta = {"name": "app", "namespace": "default", "annotations": {LAST_APPLIED: APPLIED_ENV, "team": "web"},
            "managedFields": [{"manager": "kubectl"}]}
    if kind == "Pod":
        return {"kind": kind, "metadata": meta, "spec": spec}
    if kind == "CronJob":
        return {"kind": kind, "metadata": meta, "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}
    return {"kind": kind, "metadata": meta, "spec": {"template": {"spec": spec}}}


@pytest.mark.parametrize("kind", ["Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_scrubbed_objects_hold_no_env_credential_and_no_last_applied(kind):
    obj = scrub_object(_template(kind))
    text = json.dumps(obj)
    for leak in [*ENV_LEAKS, "LASTAPPLIEDLEAK"]:
        assert leak not in text
    assert obj["metadata"]["annotations"] == {LAST_APPLIED: MASK, "team": "web"}
    assert "managedFields" not in obj["metadata"]
    assert '"name": "PORT", "value": "8080"' in text  # ordinary values are kept for the checks
    assert "postgres://app:<redacted>@db:5432/app" in text  # the dependency is still named
    assert '"secretKeyRef": {"name": "db-creds", "key": "DB_PASSWORD"}' in text


def test_last_applied_is_masked_even_without_a_credential_pattern_in_it():
    svc = {"kind": "Service", "metadata": {"annotations": {LAST_APPLIED: '{"spec":{"note":"plain PLAINLEAK"}}'}}}
    assert scrub_object(svc)["metadata"]["annotations"][LAST_APPLIED] == MASK


def test_secrets_keep_only_the_key_names_of_data_labels_and_annotations():
    secret = {"kind": "Secret", "type": "Opaque",
              "metadata": {"name": "db-creds", "namespace": "default",
                           "labels": {"leak": "SECRETLABELLEAK"},
                           "annotations": {LAST_APPLIED: "LASTAPPLIEDLEAK", "note": "SECRETANNOTATIONLEAK"}},
              "data": {"DB_PASSWORD": "aHVudGVy"}, "stringData": {"DB_USER": "STRINGDATALEAK"}}
    out = scrub_object(strip_secret_values(secret))
    assert "LEAK" not in json.dumps(out) and "aHVudGVy" not in json.dumps(out)
    assert out["metadata"]["labels"] == {"leak": MASK}
    assert out["metadata"]["annotations"] == {LAST_APPLIED: MASK, "note": MASK}
    assert out["data"] == {"DB_PASSWORD": MASK} and out["metadata"]["name"] == "db-creds"


# ---- end to end: a scenario full of credentials, diagnosed from the file and live -------------------

LOGS = "\n".join([
    "2026-11-20T03:10:41Z INFO starting web 1.5.0",
    "connecting password=LOGPW1 user=app",
    "Authorization: Bearer " + JWT,
    "dsn postgres://app:LOGURLPW@db:5432/app",
    "dsn mysql://root:LOGAT@LOGATPART2@db/app",
    "dsn postgres://app:LOG/SLASHPW@db/app",
    "env DB_PASS=LOGDBPASS",
    'json {"password": "LOGSPACE SPACEPW"}',
    "cli mysql --password LOGCLIPW",
    "Authorization: Basic dXNlcjpMT0dCQVNJQw==",
    "X-Auth-Token: LOGXAUTH",
    "conn string Server=db;User Id=sa;Password=LOGADOPW;",
    "Cookie: session=LOGCOOKIE",
    "aws_secret_access_key = LOGAWSSECRET",
    "FATAL config: required environment variable DATABASE_URL is not set", ""])
BODY = 'Traceback: connect(dsn="host=db user=app password=BODYPW1 dbname=x") DB_PASS=BODYPW2 pwd BODYPW3'
LEAKS_ANYWHERE = [*ENV_LEAKS, "LASTAPPLIEDLEAK", "SECRETLABELLEAK", "SECRETANNOTATIONLEAK", "STRINGDATALEAK",
                  "aHVudGVyMlNFQ1JFVERBVEE=", "CMPASSLEAK", "LOGPW1", "LOGURLPW", "LOGAT", "SLASHPW", "LOGDBPASS",
                  "SPACEPW", "LOGSPACE", "LOGCLIPW", "dXNlcjpMT0dCQVNJQw==", "LOGXAUTH", "LOGADOPW", "LOGCOOKIE",
                  "LOGAWSSECRET", "BODYPW1", "BODYPW2", "BODYPW3"]


def _leaky(name: str):
    """A shipped scenario with credentials planted everywhere a cluster keeps them."""
    snap = load_snapshot(SCENARIOS_DIR / f"{name}.yaml")
    snap.expect = None
    meta = {"namespace": "default", "resourceVersion": "1", "creationTimestamp": "2026-11-01T09:00:00Z"}
    snap.kubernetes += [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {**meta, "name": "db-creds", "uid": "u-sec-1", "labels": {"leak": "SECRETLABELLEAK"},
                      "annotations": {LAST_APPLIED: json.dumps({"stringData": {"DB_PASSWORD": "LASTAPPLIEDLEAK"}}),
                                      "note": "SECRETANNOTATIONLEAK"}},
         "data": {"DB_PASSWORD": "aHVudGVyMlNFQ1JFVERBVEE="}, "stringData": {"DB_USER": "STRINGDATALEAK"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {**meta, "name": "app-cfg", "uid": "u-cm-1"},
         "data": {"config.yaml": "db_url: postgres://app:CMPASSLEAK@db/app"}}]
    for obj in snap.kubernetes:
        if obj["kind"] not in ("Pod", "ReplicaSet", "Deployment"):
            continue
        obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = APPLIED_ENV
        spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
        for c in spec["containers"]:
            c["env"] = [*c.get("env", []), *copy.deepcopy(ENV)]
            c["envFrom"] = [{"secretRef": {"name": "db-creds"}}, {"configMapRef": {"name": "app-cfg"}}]
    for live in snap.live["containers"].values():
        live["logs"] = live["previousLogs"] = LOGS
        for answer in (live.get("localhost") or {}).values():
            if "body" in answer:
                answer["body"] = BODY
    for answer in (snap.live.get("internet") or {}).values():
        if "body" in answer:
            answer["body"] = BODY
    return snap


def _assert_no_leak(text: str) -> None:
    assert [leak for leak in LEAKS_ANYWHERE if leak in text] == []


# Each scenario makes the report quote what could leak: a crash loop its previous log, a 500 its
# in-pod and internet bodies and the current log.
QUOTES = {"crashloop-missing-env": ["previousLogTail"], "app-500-while-ready": ["bodyPrefix", "logTail"]}


@pytest.mark.parametrize("name", sorted(QUOTES))
def test_a_diagnosis_from_a_file_quotes_no_credential(name, tmp_path):
    path = tmp_path / "leak.json"
    dump_snapshot(_leaky(name), path)
    run = run_cli("diagnose", "--from", str(path), "-o", "json")
    assert run.code == 2, run.stderr
    for field in QUOTES[name]:
        assert f'"{field}"' in run.stdout
    _assert_no_leak(run.stdout + run.stderr)


@pytest.mark.parametrize("name", sorted(QUOTES))
def test_a_live_diagnosis_and_its_snapshot_hold_no_credential(name, sim_env, tmp_path):
    sim_env(_leaky(name), tmp_path / "sim")
    live = run_cli("diagnose", "svc/app", "-o", "json")
    assert live.code == 2, live.stderr
    for field in QUOTES[name]:
        assert f'"{field}"' in live.stdout
    _assert_no_leak(live.stdout + live.stderr)
    out = tmp_path / "snap.yaml"
    written = run_cli("snapshot", "svc/app", "-f", str(out))
    assert written.code == 0, written.stderr
    _assert_no_leak(out.read_text() + written.stderr)
    saved = load_snapshot(out)
    secret = next(o for o in saved.kubernetes if o["kind"] == "Secret")
    assert secret["metadata"]["labels"] == {"leak": MASK}
    assert {o["kind"] for o in saved.kubernetes} >= {"Pod", "ReplicaSet", "Deployment", "Secret", "ConfigMap"}
    again = run_cli("diagnose", "--from", str(out), "-o", "json")
    _assert_no_leak(again.stdout)

"""The shared Kubernetes helpers: quantities, named ports, probes, log patterns and redaction."""

from __future__ import annotations

import pytest

from okedoctor.kube import (
    cpu_millis,
    dependency_commands,
    fmt_cpu,
    fmt_memory,
    listening_ports,
    log_hints,
    memory_bytes,
    parse_quantity,
    pod_requests,
    probe_target,
    redact,
    resolve_target_port,
)


@pytest.mark.parametrize(("text", "millis"), [("250m", 250), ("2", 2000), ("1.5", 1500), ("0.1", 100),
                                              (1, 1000), ("100u", 0), (None, 0), ("bogus", 0)])
def test_cpu(text, millis):
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(("text", "n"), [("512Mi", 512 * 2**20), ("1Gi", 2**30), ("13791300Ki", 13791300 * 1024),
                                         ("1G", 10**9), ("1e3", 1000), ("128974848", 128974848), ("1.5Gi", 3 * 2**29)])
def test_memory(text, n):
    assert memory_bytes(text) == n


def test_unparsable_quantity_is_none():
    assert parse_quantity("12 apples") is None


def test_formatting():
    assert (fmt_cpu(1830), fmt_cpu(2000)) == ("1830m", "2")
    assert (fmt_memory(512 * 2**20), fmt_memory(13791300 * 1024)) == ("512Mi", "13.2Gi")


def test_pod_requests_take_the_largest_init_container():
    spec = {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                           {"resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "1", "memory": "64Mi"}}}]}
    r = pod_requests(spec)
    assert (r.cpu, r.memory) == (1000, 256 * 2**20)


POD = {"spec": {"containers": [
    {"name": "web", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]},
    {"name": "metrics", "ports": [{"name": "metrics", "containerPort": 9090},
                                  {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]},
]}}


def test_named_target_port_is_found_in_any_container():
    assert resolve_target_port({"port": 80, "targetPort": "metrics"}, POD) == 9090
    assert resolve_target_port({"port": 80, "targetPort": "http"}, POD) == 8080


def test_named_target_port_must_match_protocol_and_name():
    assert resolve_target_port({"port": 53, "targetPort": "dns"}, POD) is None
    assert resolve_target_port({"port": 53, "targetPort": "dns", "protocol": "UDP"}, POD) == 5353
    assert resolve_target_port({"port": 80, "targetPort": "https"}, POD) is None


def test_numeric_and_default_target_ports():
    assert resolve_target_port({"port": 80, "targetPort": 3000}, POD) == 3000
    assert resolve_target_port({"port": 80, "targetPort": "3000"}, POD) == 3000
    assert resolve_target_port({"port": 80}, POD) == 80


def test_probe_named_port_resolves_against_its_container():
    c = POD["spec"]["containers"][0]
    got = probe_target({"httpGet": {"path": "/healthz", "port": "http"}}, c)
    assert got == ("httpGet", 8080, "HTTP GET :8080/healthz")
    assert probe_target({"tcpSocket": {"port": 8080}}, c)[1] == 8080
    assert probe_target(None, c) == ("", None, "")


@pytest.mark.parametrize(("line", "kind", "detail"), [
    ("FATAL config: required environment variable DATABASE_URL is not set", "missing-env",
     {"variable": "DATABASE_URL"}),
    ("Error: Missing required env var: STRIPE_API_KEY", "missing-env", {"variable": "STRIPE_API_KEY"}),
    ("KeyError: 'REDIS_HOST'", "missing-env", {"variable": "REDIS_HOST"}),
    ("panic: JWT_SECRET must be set", "missing-env", {"variable": "JWT_SECRET"}),
    ("dial tcp 10.96.45.12:5432: connect: connection refused", "refused", {"dependency": "10.96.45.12:5432"}),
    ("Error: connect ECONNREFUSED 127.0.0.1:6379", "refused", {"dependency": "127.0.0.1:6379"}),
    ('connection to server at "db" (10.96.3.4), port 5432 failed: Connection refused', "refused",
     {"dependency": "db:5432"}),
    ("listen tcp :8080: bind: address already in use", "addr-in-use", {"port": 8080}),
    ("Error: listen EACCES: permission denied 0.0.0.0:80", "permission", {"path": None}),
    (" * Running on http://127.0.0.1:5000", "loopback", {"address": "127.0.0.1:5000", "port": 5000}),
    ("Listening on localhost:8080", "loopback", {"address": "localhost:8080", "port": 8080}),
    ("dial tcp: lookup postgres.prod.svc.cluster.local on 10.96.0.10:53: no such host", "dns",
     {"host": "postgres.prod.svc.cluster.local"}),
    ("Error: ENOENT: no such file or directory, open '/app/config/.env'", "file-missing",
     {"path": "/app/config/.env"}),
    ("exec /usr/local/bin/web: exec format error", "exec-format", {}),
])
def test_log_patterns(line, kind, detail):
    hints = log_hints(f"2026-11-20T03:00:00Z INFO starting\n{line}\n")
    assert [h.kind for h in hints] == [kind]
    assert hints[0].detail == detail
    assert hints[0].plain


def test_log_patterns_ignore_ordinary_lines():
    assert log_hints("INFO listening on 0.0.0.0:8080\nGET /healthz 200 1ms\nconnected to db:5432\n") == []


def test_listening_ports():
    log = "Server listening on port 3000\n[INFO] Listening at: http://0.0.0.0:8000 (1)\n"
    assert listening_ports(log) == [3000, 8000]


@pytest.mark.parametrize(("line", "secret"), [
    ("connecting to postgres://app:s3cr3t-pw@db:5432/app", "s3cr3t-pw"),
    ("DB_PASSWORD=hunter2 starting", "hunter2"),
    ('config: {"apiKey": "sk_live_abcdef123456"}', "sk_live_abcdef123456"),
    ("Authorization: Bearer abcdefghijklmnop.qrstuvwx", "abcdefghijklmnop"),
    ("session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyMTIzNDUifQ.c2lnbmF0dXJlLXZhbHVl", "eyJhbGciOiJIUzI1NiJ9"),
    ("aws key AKIAABCDEFGHIJKLMNOP used", "AKIAABCDEFGHIJKLMNOP"),
    ("client_secret: 'x9y8z7'", "x9y8z7"),
])
def test_redact_masks_credentials(line, secret):
    out = redact(line)
    assert secret not in out and "<redacted" in out


def test_redact_keeps_ordinary_lines():
    line = "pulled ap-tokyo-1.ocir.io/demo/web@sha256:9b1d3c5e7f2a4b6c8d0e1f3a5b7c9d1e in 3s, GET /tokens 200"
    assert redact(line) == line


def test_quoted_log_lines_are_redacted():
    hints = log_hints("FATAL cannot connect to postgres://app:pw123456@db:5432/app: connection refused\n")
    assert hints and "pw123456" not in hints[0].line


def test_dependency_commands():
    assert dependency_commands("default", "10.96.45.12:5432") == [
        "kubectl get services -A -o wide | grep -w 10.96.45.12"]
    assert dependency_commands("web", "db.data.svc.cluster.local:5432")[0] == "kubectl -n data get service db -o wide"
    assert dependency_commands("web", "redis:6379")[1].startswith("kubectl -n web get endpointslices")


@pytest.mark.parametrize("line", [
    "** server can't find db.default.svc.cluster.local: NXDOMAIN",   # busybox >= 1.29
    "nslookup: can't resolve 'db'",                                   # busybox 1.28
    "wget: bad address 'db'",
])
def test_nslookup_failures_name_the_host_an_init_container_waits_for(line):
    from okedoctor.kube import log_hints

    (hint,) = log_hints(line)
    assert (hint.kind, hint.detail["host"]) == ("dns", "db")


def test_a_short_service_name_that_is_also_hex_is_not_taken_for_an_address():
    from okedoctor.kube import dependency_commands

    assert dependency_commands("shop", "db") == ["kubectl -n shop get service db -o wide",
                                                 "kubectl -n shop get endpointslices -l "
                                                 "kubernetes.io/service-name=db -o wide"]
    assert dependency_commands("shop", "fd00::1:5432")[0].startswith("kubectl get services -A")

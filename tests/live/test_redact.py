"""Credential-looking strings never survive redaction; ordinary log lines do."""

from __future__ import annotations

import pytest

from okedoctor.live.redact import MASK, redact

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

"""Broken kubeconfig and OCI config files: one line naming the file and the fix, exit 64."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest
import yaml

from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli


def healthy():
    return load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")


def _usage_line(run) -> str:
    assert run.code == 64, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("okedoctor: ") and "Traceback" not in run.stderr
    return lines[0]


def _oci_requests(sim) -> list:
    return [r for r in sim.requests if r["api"] == "oci"]


# ---- kubeconfig ---------------------------------------------------------------------------

def test_malformed_kubeconfig_names_file_line_and_column(tmp_path, monkeypatch):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: [\n")
    monkeypatch.setenv("KUBECONFIG", str(bad))
    line = _usage_line(run_cli("diagnose", "svc/app"))
    assert str(bad) in line
    assert "line 4, column 1" in line  # where PyYAML ran out of input for the open `[`
    assert "create-kubeconfig" in line


def test_malformed_kubeconfig_does_not_echo_the_broken_line(tmp_path, monkeypatch):
    # PyYAML's own message quotes the offending line: here, a bearer token.
    bad = tmp_path / "kubeconfig"
    bad.write_text("users:\n- name: u\n  user:\n    token: s3cr3t-t0ken: oops\n")
    monkeypatch.setenv("KUBECONFIG", str(bad))
    line = _usage_line(run_cli("diagnose", "svc/app"))
    assert "line 4" in line and "s3cr3t" not in line


@pytest.mark.parametrize("field,missing", [("cluster", "no-such-cluster"), ("user", "no-such-user")])
def test_context_naming_a_missing_cluster_or_user_is_bad_input(sim_env, tmp_path, monkeypatch, field, missing):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg = yaml.safe_load(Path(sim.env["KUBECONFIG"]).read_text())
    cfg["contexts"][0]["context"][field] = missing
    path = tmp_path / "kubeconfig-broken"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(path))
    line = _usage_line(run_cli("diagnose", "svc/app"))
    assert f"{field} '{missing}'" in line and "'oke-demo'" in line and str(path) in line
    assert sim.requests == []  # refused before a request with half a configuration


# ---- OCI config ---------------------------------------------------------------------------

def _oci_config(sim, tmp_path, edit) -> Path:
    path = tmp_path / "oci_config"
    path.write_text(edit(Path(sim.env["OCI_CLI_CONFIG_FILE"]).read_text()))
    return path


def test_oci_key_file_that_does_not_exist(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg = _oci_config(sim, tmp_path, lambda t: re.sub(r"(?m)^key_file=.*$", "key_file=/nonexistent/api.pem", t))
    line = _usage_line(run_cli("diagnose", "svc/app", "--config-file", str(cfg)))
    assert str(cfg) in line and "[DEFAULT]" in line and "/nonexistent/api.pem" in line
    assert "oci setup config" in line
    assert "None" not in line
    assert _oci_requests(sim) == []


def test_oci_config_without_a_section_header(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg = _oci_config(sim, tmp_path, lambda t: t.replace("[DEFAULT]\n", ""))
    line = _usage_line(run_cli("diagnose", "svc/app", "--config-file", str(cfg)))
    assert str(cfg) in line and "[DEFAULT]" in line and "line 1" in line
    assert "oci setup config" in line and "--config-file" in line
    assert _oci_requests(sim) == []


def test_unknown_oci_profile_lists_the_profiles_there_are(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    line = _usage_line(run_cli("diagnose", "svc/app", "--profile", "PROD"))
    assert "'PROD'" in line and "profiles: DEFAULT" in line
    assert "--profile" in line and "--config-file" in line
    assert _oci_requests(sim) == []


def test_default_profile_absent_from_a_file_with_other_profiles(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg = _oci_config(sim, tmp_path, lambda t: t.replace("[DEFAULT]", "[PROD]"))
    line = _usage_line(run_cli("diagnose", "svc/app", "--config-file", str(cfg)))
    assert "'DEFAULT'" in line and "profiles: PROD" in line and "--profile" in line


def test_oci_config_missing_keys_names_them(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg = _oci_config(sim, tmp_path, lambda t: re.sub(r"(?m)^(user|fingerprint)=.*\n", "", t))
    line = _usage_line(run_cli("diagnose", "svc/app", "--config-file", str(cfg)))
    assert "user is missing" in line and "fingerprint is missing" in line
    assert str(cfg) in line and "oci setup config" in line


# ---- OCI session tokens -------------------------------------------------------------------

def _jwt(claims: dict) -> str:
    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _session_profile(sim, tmp_path, token: str) -> tuple[Path, Path]:
    token_file = tmp_path / "token"
    token_file.write_text(token)
    cfg = _oci_config(sim, tmp_path, lambda t: t.replace("[DEFAULT]", "[sess]") + f"security_token_file={token_file}\n")
    return cfg, token_file


def test_expired_session_token_says_when_and_how_to_refresh(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg, token_file = _session_profile(sim, tmp_path, _jwt({"exp": 1700000000, "iat": 1699996400}))
    line = _usage_line(run_cli("diagnose", "svc/app", "--auth", "security_token", "--profile", "sess",
                               "--config-file", str(cfg)))
    assert f"OCI session token in {token_file} expired at 2023-11-14T22:13:20Z" in line
    assert "`oci session refresh --profile sess`" in line and "`oci session authenticate`" in line
    assert _oci_requests(sim) == []


def test_a_file_that_is_not_a_session_token(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    cfg, token_file = _session_profile(sim, tmp_path, "not-a-jwt")
    line = _usage_line(run_cli("diagnose", "svc/app", "--auth", "security_token", "--profile", "sess",
                               "--config-file", str(cfg)))
    assert str(token_file) in line and "oci session authenticate" in line


def test_session_token_still_valid_gives_a_signer(sim_env, tmp_path):
    from okedoctor.live.oci_api import load_setup

    sim = sim_env(healthy(), tmp_path / "sim")
    cfg, _ = _session_profile(sim, tmp_path, _jwt({"exp": int(time.time()) + 3600}))
    setup = load_setup(auth="security_token", profile="sess", config_file=str(cfg), region=None)
    assert setup.signer is not None


# ---- principal auth against the simulator -------------------------------------------------

PRINCIPAL_CONSTRUCTORS = ("InstancePrincipalsSecurityTokenSigner", "get_resource_principals_signer",
                          "get_oke_workload_identity_resource_principal_signer")


@pytest.fixture
def signer_calls(monkeypatch):
    """Replace the principal signers, which reach 169.254.169.254 as they are built, with recorders."""
    import oci

    calls: list[str] = []
    for name in PRINCIPAL_CONSTRUCTORS:
        def fake(*args, _name=name, **kwargs):
            calls.append(_name)
            raise RuntimeError(f"{_name} must not be built in a test")
        monkeypatch.setattr(oci.auth.signers, name, fake)
    return calls


@pytest.mark.parametrize("auth", ["instance_principal", "resource_principal", "oke_workload_identity"])
def test_principal_auth_is_refused_against_a_loopback_endpoint(sim_env, tmp_path, signer_calls, auth):
    sim = sim_env(healthy(), tmp_path / "sim")
    assert sim.env["OKEDOCTOR_OCI_ENDPOINT"].startswith("http://127.")
    line = _usage_line(run_cli("diagnose", "svc/app", "--auth", auth))
    assert f"--auth {auth}" in line and "--auth api_key" in line
    assert signer_calls == []
    assert _oci_requests(sim) == []


def test_principal_auth_from_the_environment_is_refused_too(sim_env, tmp_path, signer_calls, monkeypatch):
    sim_env(healthy(), tmp_path / "sim")
    monkeypatch.setenv("OCI_CLI_AUTH", "instance_principal")
    monkeypatch.delenv("OKEDOCTOR_OCI_ENDPOINT")
    line = _usage_line(run_cli("diagnose", "svc/app", "--oci-endpoint", "http://localhost:9"))
    assert "instance_principal" in line and signer_calls == []


@pytest.mark.parametrize("endpoint,loopback", [
    ("http://127.0.0.1:8080", True), ("http://127.3.4.5", True), ("https://localhost:1", True),
    ("http://[::1]:80", True), ("127.0.0.1:9000", True), ("http://0.0.0.0:1", True),
    ("https://iaas.ap-tokyo-1.oraclecloud.com", False), ("https://10.0.0.1", False), (None, False),
])
def test_loopback_endpoint_detection(endpoint, loopback):
    from okedoctor.live.oci_api import is_loopback_endpoint

    assert is_loopback_endpoint(endpoint) is loopback


def test_failed_principal_auth_names_the_auth_in_use(signer_calls, monkeypatch):
    """Off the simulator a principal signer may fail; the reason names the auth, never `None`."""
    from okedoctor.live.collector import _oci_setup
    from okedoctor.live.oci_api import OciUnavailable
    from okedoctor.options import LiveOptions

    monkeypatch.setenv("OCI_CLI_AUTH", "resource_principal")
    monkeypatch.delenv("OKEDOCTOR_OCI_ENDPOINT", raising=False)
    result = _oci_setup(LiveOptions(auth=None))  # the fake signer raises before any request
    assert isinstance(result, OciUnavailable)
    assert str(result).startswith("OCI resource_principal authentication failed")
    assert signer_calls == ["get_resource_principals_signer"]


@pytest.mark.parametrize(("args", "needle"), [
    (("--config", "BAD"), "malformed YAML"),
    (("--exclude", "OKD-NOPE-999"), "OKD-NOPE-999"),
])
def test_a_bad_policy_is_one_line_and_exit_64_live_too(sim_env, tmp_path, args, needle):
    """A live diagnosis loads the checks and the policy while its first requests are in flight
    (issue #15); what they refuse is still one line and exit 64, and no report is written."""
    sim_env(healthy(), tmp_path / "sim")
    bad = tmp_path / "bad.yaml"
    bad.write_text("silences: [\n", encoding="utf-8")
    run = run_cli("diagnose", "svc/app", "-o", "json", *(str(bad) if a == "BAD" else a for a in args))
    assert needle in _usage_line(run) and run.stdout == ""

"""The real oci CLI, run in the shell `okedoctor sim serve` sets up, talks to the simulator.

The README's test command installs the real oci CLI into its own venv, `.venv-oci` (it is
large, and its pinned dependencies must not decide okedoctor's). Elsewhere set OKEDOCTOR_OCI_CLI
to its path or put `oci` on PATH; without one the test is skipped, except under CI=true, where a
missing CLI fails: the independent client is the point.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import parse_qs

import pytest

from tests.conftest import ROOT, SCENARIOS_DIR
from tests.sim.conftest import read_exports

LOCAL_CLI = ROOT / ".venv-oci" / "bin" / "oci"
OCI_CLI = os.environ.get("OKEDOCTOR_OCI_CLI") or (str(LOCAL_CLI) if LOCAL_CLI.exists() else shutil.which("oci"))
NLB = "ocid1.networkloadbalancer.oc1.ap-tokyo-1.aaaaaaaaappnlb"

pytestmark = pytest.mark.skipif(not OCI_CLI and os.environ.get("CI") != "true",
                                reason="no oci CLI (.venv-oci, OKEDOCTOR_OCI_CLI or oci on PATH)")


def test_ci_has_the_real_oci_cli():
    assert OCI_CLI, "CI runs the README's test command, which installs the oci CLI into .venv-oci"


@contextmanager
def oci_cli_env(tmp_path, scenario: str):
    """`okedoctor sim serve SCENARIO` running, and the environment the real CLI is run in there:
    the simulator's exports and no OCI_* of this machine. Yields (env, request log path)."""
    log = tmp_path / "log.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "okedoctor", "sim", "serve", str(SCENARIOS_DIR / scenario),
                             "--request-log", str(log), "--workdir", str(tmp_path / "w")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        exports = read_exports(proc)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
        # A safety belt: were the rc file ignored, the CLI would go to the real regional endpoint;
        # a dead loopback proxy makes that fail at once instead of leaving the machine.
        env.update(exports, HOME=str(tmp_path / "home"), HTTPS_PROXY="http://127.0.0.1:9",
                   SUPPRESS_LABEL_WARNING="True")
        yield env, log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_plain_oci_command_in_the_sim_serve_shell_reaches_the_simulator(tmp_path):
    with oci_cli_env(tmp_path, "healthy-nlb.yaml") as (env, log):
        out = subprocess.run([OCI_CLI, "nlb", "network-load-balancer", "get", "--network-load-balancer-id", NLB,
                              "--no-retry"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)["data"]
    assert (body["id"], body["display-name"]) == (NLB, "default/app/8d3c2a5e-7b1f-4f0e-9a6d-2c4b8e1f0a11")
    served = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["api"], r["method"], r["path"], r["status"]) for r in served] == [
        ("oci", "GET", f"/20200501/networkLoadBalancers/{NLB}", 200)]


def test_the_oci_cli_reads_an_oci_certificates_certificate_from_the_simulator(tmp_path):
    """The simulator's OCI Certificates service (/20210224/certificates/{id}) answers the real oci CLI
    as the service does: the body the scenario holds, in the CLI's kebab-case, with its dates parsed."""
    cert = "ocid1.certificate.oc1.ap-tokyo-1.amaaaaaashopcert"
    with oci_cli_env(tmp_path, "lb-oci-certificate-expiring.yaml") as (env, log):
        runs = [subprocess.run([OCI_CLI, "certs-mgmt", "certificate", "get", "--certificate-id", ocid, "--no-retry"],
                               env=env, capture_output=True, text=True, timeout=120)
                for ocid in (cert, cert.replace("shopcert", "gonecert"))]
    found, gone = runs
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)["data"]
    assert body["id"] == cert and body["config-type"] == "IMPORTED"
    assert body["current-version"]["validity"]["time-of-validity-not-after"].startswith("2026-12-06T06:00:00")
    assert [s["value"] for s in body["current-version"]["subject-alternative-names"]] == [
        "shop.example.com", "www.shop.example.com"]
    assert gone.returncode != 0 and "NotAuthorizedOrNotFound" in gone.stderr
    served = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["method"], r["path"], r["status"]) for r in served] == [
        ("GET", f"/20210224/certificates/{cert}", 200),
        ("GET", f"/20210224/certificates/{cert.replace('shopcert', 'gonecert')}", 404)]


WORKERS_NSG = "ocid1.networksecuritygroup.oc1.ap-tokyo-1.aaaaaaaaworkersnsg"
WORKER_SUBNET = "ocid1.subnet.oc1.ap-tokyo-1.aaaaaaaaworkersubnet"


def test_the_vnic_lists_a_fleet_run_makes_answer_the_real_cli_page_by_page(tmp_path):
    """ListNetworkSecurityGroupVnics and ListPrivateIps, which a fleet run reads instead of one
    GetVnic per worker: the real CLI follows their opc-next-page one item a page (`--page-size 1
    --all`), and reads them into its own models (kebab-case keys: the wire's camelCase parsed)."""
    with oci_cli_env(tmp_path, "nsg-mode-health-rule-deleted.yaml") as (env, log):
        def oci(*argv: str) -> list[dict]:
            out = subprocess.run([OCI_CLI, *argv, "--all", "--page-size", "1", "--no-retry"], env=env,
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)["data"]

        members = oci("network", "nsg", "vnics", "list", "--nsg-id", WORKERS_NSG)
        ips = oci("network", "private-ip", "list", "--subnet-id", WORKER_SUBNET)
    assert [(m["vnic-id"], m["resource-id"]) for m in members] == [
        ("ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic1", "ocid1.instance.oc1.ap-tokyo-1.aaaaaaaanode1"),
        ("ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic2", "ocid1.instance.oc1.ap-tokyo-1.aaaaaaaanode2")]
    assert [(p["ip-address"], p["vnic-id"], p["is-primary"], p["subnet-id"]) for p in ips] == [
        ("10.0.10.5", "ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic1", True, WORKER_SUBNET),
        ("10.0.10.6", "ocid1.vnic.oc1.ap-tokyo-1.aaaaaaaavnic2", True, WORKER_SUBNET)]
    served = [json.loads(line) for line in log.read_text().splitlines()]
    # Two pages of one item each, the second asked for with the first's opc-next-page.
    assert [(r["path"], parse_qs(r.get("query") or "").get("page", [None])[0]) for r in served] == [
        (f"/20160918/networkSecurityGroups/{WORKERS_NSG}/vnics", None),
        (f"/20160918/networkSecurityGroups/{WORKERS_NSG}/vnics", "1"),
        ("/20160918/privateIps", None), ("/20160918/privateIps", "1")]

"""A live diagnosis loads the oci SDK without its package __init__ and without PKCS#11 (issue #15:
the OCI setup is on the path of every LB lookup), and still reads OCI as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.live.test_live_errors import healthy


def test_a_live_diagnosis_reads_oci_without_the_sdks_init_or_pkcs11(sim_env, tmp_path):
    sim = sim_env(healthy(), tmp_path / "sim")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "okedoctor", "diagnose", "svc/app", "-o", "json",
                           "--timeout", "60"], env={**os.environ, **sim.env}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "oci.base_client" in imported and "oci.signer" in imported
    # what only the package's __init__ or the PKCS#11 signer would have imported (importtime also
    # lists `pkcs11` itself, as the import the SDK tried and took for not installed)
    assert not {"pkcs11.mechanisms", "asn1crypto", "oci.pagination", "oci.waiter", "oci.fips"} & imported
    report = json.loads(proc.stdout)
    assert report["verdict"] == "ok"
    assert report["context"]["lbSearch"]["foundBy"] == "display-name"  # the LB was read through the SDK
    assert sum(1 for r in sim.requests if r["api"] == "oci") >= 10

"""`okedoctor diagnose --watch`: diagnose again until green, printing what changed; the exit code
is the last verdict's. The fix is applied by hand (the printed command's request, through the SDK)
while the watch waits."""

from __future__ import annotations

import oci

from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR
from tests.live.conftest import run_cli
from tests.sim.test_sim_oci_sdk import client

SL = "ocid1.securitylist.oc1.ap-tokyo-1.aaaaaaaanodeseclist"


def test_watch_ends_when_the_chain_is_green(sim_env, tmp_path, monkeypatch):
    import okedoctor.watch as watch

    sim = sim_env(load_snapshot(SCENARIOS_DIR / "missing-nodeport-rule.yaml"), tmp_path / "sim")
    waits = []

    def engineer_fixes_it(seconds):
        waits.append(seconds)
        vn = client(oci.core.VirtualNetworkClient, sim)
        rules = vn.get_security_list(SL).data.ingress_security_rules
        rules.append(oci.core.models.IngressSecurityRule(
            protocol="6", source="10.0.20.0/24", tcp_options=oci.core.models.TcpOptions(
                destination_port_range=oci.core.models.PortRange(min=30000, max=32767))))
        vn.update_security_list(SL, oci.core.models.UpdateSecurityListDetails(ingress_security_rules=rules))

    monkeypatch.setattr(watch, "pause", engineer_fixes_it)
    out = run_cli("diagnose", "svc/app", "--watch", "--interval", "2", "-o", "json", "--timeout", "30")
    assert waits == [2.0]
    assert out.code == 0 and out.json["verdict"] == "ok"
    lines = out.stderr.splitlines()
    assert "FAILURE" in lines[0] and "nodeport error" in lines[0]
    assert "  verdict failure -> ok" in lines and "  nodeport error -> ok" in lines
    assert any(line.startswith("  fixed: OKD-NP-002") for line in lines)


def test_watch_needs_a_live_cluster():
    out = run_cli("diagnose", "--from", str(SCENARIOS_DIR / "healthy-nlb.yaml"), "--watch")
    assert out.code == 64 and "--watch" in out.stderr

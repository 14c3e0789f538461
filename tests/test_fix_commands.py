"""Every printed fix command is one a person can paste at 3 am without harm.

Each rule here is a command that was printed once and failed, or would have destroyed data
(issue #14): the scan runs over every fix of every shipped scenario, and the unit cases build
the facts no scenario holds (a taint, an IAM denial, a Bound claim).
"""

from __future__ import annotations

import copy
import re
import shlex

import pytest
from okedoctor_checks.cluster.access_denied import AccessDenied
from okedoctor_checks.pod.pod_unschedulable import PodUnschedulable

from okedoctor.chain.lb import backend_set_update_command
from okedoctor.diagnose import diagnose_snapshot, resolve_target
from okedoctor.facts import Facts, LoadBalancerRef
from okedoctor.snapshot import load_snapshot
from tests.conftest import SCENARIOS_DIR, scenario_paths


def unquoted(command: str) -> str:
    """The characters of a shell command the shell reads bare: outside quotes, before a comment."""
    out, quote, prev = [], None, " "
    for ch in command:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and prev.isspace():
            break
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


@pytest.fixture(scope="module")
def every_fix(builtin_registry):
    out = []
    for path in scenario_paths():
        snap = load_snapshot(path)
        report = diagnose_snapshot(snap, resolve_target(snap, None, None, str(path)), builtin_registry)
        out += [(path.stem, snap, f) for f in report.findings]
    return out


def commands(every_fix):
    return [(name, snap, f, c) for name, snap, f in every_fix for c in f.fix.commands]


def test_unquoted_command_parts_redirect_nothing(every_fix):
    """A bare `<placeholder>` is a redirection: pasted, it fails or creates a file named after a flag."""
    # what remains after the redirections a command means (stdin from /dev/null, stderr away)
    meant = re.compile(r"\s(?:<\s*/dev/null|2?>\s*/dev/null|2>&1)")
    bad = [(n, c) for n, _, _, c in commands(every_fix) if re.search(r"[<>]", meant.sub(" ", unquoted(c)))]
    assert bad == []


def test_every_command_splits_like_a_shell_would(every_fix):
    for _name, _, _, c in commands(every_fix):
        if "|" in unquoted(c) or "$(" in c:
            continue
        shlex.split(c, comments=True)  # raises on an unbalanced quote


@pytest.mark.parametrize("forbidden", [
    r"oci nlb work-request list .*--sort-order",  # the NLB CLI has no such option
    r"oci iam policy update",  # replaces every statement of the policy
    r"kubectl taint nodes --all",  # strips the taint from every node, exits 1 on those without
    r"kubectl label node.* oke\.oraclecloud\.com/",  # a label OKE owns
])
def test_no_forbidden_command(every_fix, forbidden):
    assert [(n, c) for n, _, _, c in commands(every_fix) if re.search(forbidden, c)] == []


def _claims(snap, phase):
    return {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in snap.kubernetes
            if o["kind"] == "PersistentVolumeClaim" and (o.get("status") or {}).get("phase") == phase}


def test_no_bound_claim_is_deleted(every_fix):
    bad = []
    for name, snap, _, c in commands(every_fix):
        m = re.search(r"kubectl -n (\S+) delete pvc (\S+)", c)
        if m and (m.group(1), m.group(2)) in _claims(snap, "Bound"):
            bad.append((name, c))
    assert bad == []


def _revisions(snap, ns, dep):
    return {(o["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
            for o in snap.kubernetes if o["kind"] == "ReplicaSet" and o["metadata"].get("namespace") == ns
            and any(r.get("name") == dep for r in o["metadata"].get("ownerReferences") or [])} - {None}


def test_rollout_undo_only_with_an_earlier_revision(every_fix):
    bad = []
    for name, snap, _, c in commands(every_fix):
        m = re.search(r"kubectl -n (\S+) rollout undo deployment/(\S+)", c)
        if m and len(_revisions(snap, m.group(1), m.group(2))) < 2:
            bad.append((name, c))
    assert bad == []


def test_a_reboot_comes_after_the_drain_with_a_caution(every_fix):
    seen = 0
    for _, _, f, _ in [x for x in commands(every_fix) if "SOFTRESET" in x[3]]:
        cmds = list(f.fix.commands)
        reboot = next(i for i, c in enumerate(cmds) if "SOFTRESET" in c)
        assert any("kubectl drain" in c for c in cmds[:reboot])
        assert "CAUTION" in f.fix.summary
        seen += 1
    assert seen  # node-not-ready prints one


def test_backends_change_in_one_request_per_set(every_fix):
    """Several backend create/delete in a row conflict (409) while the first work request runs."""
    bad = [(n, c) for n, _, f, c in commands(every_fix)
           if re.search(r"oci n?lb backend (create|delete)", c)
           and "--wait-for-state SUCCEEDED" not in c]
    assert bad == []


def test_security_list_updates_carry_the_etag_of_the_read(every_fix):
    updates = [(n, c) for n, _, _, c in commands(every_fix) if "security-list update" in c]
    assert updates
    assert [(n, c) for n, c in updates if "--if-match" not in c] == []


# ---- facts no shipped scenario holds ------------------------------------------------------------

HEALTHY = load_snapshot(SCENARIOS_DIR / "healthy-nlb.yaml")


def test_a_taint_is_tolerated_not_removed_from_every_node():
    s = copy.deepcopy(HEALTHY)
    pod = next(o for o in s.kubernetes if o["kind"] == "Pod")
    pod["spec"].pop("nodeName")
    pod["spec"]["tolerations"] = [{"key": "other", "operator": "Exists"}]
    pod["status"] = {"phase": "Pending", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: batch}."}]}
    [f] = list(PodUnschedulable().run(Facts(s)))
    assert not any("taint nodes --all" in c for c in f.fix.commands)
    patch = next(c for c in f.fix.commands if " patch " in c)
    # the list has no merge key: the patch keeps the toleration the pod had
    assert '"key": "other"' in patch and '"key": "dedicated"' in patch


def test_missing_iam_statements_go_into_a_new_policy():
    s = copy.deepcopy(HEALTHY)
    s.collection = {"oci": {"kind": "denied", "reason": "needs `Allow group ops to read network-load-balancers in "
                            "tenancy` and `Allow group ops to read virtual-network-family in tenancy`"}}
    [f] = list(AccessDenied().run(Facts(s)))
    [cmd] = f.fix.commands
    assert cmd.startswith("oci iam policy create ") and "policy update" not in cmd
    assert shlex.split(cmd)[shlex.split(cmd).index("--statements") + 1] == (
        '["Allow group ops to read network-load-balancers in tenancy", '
        '"Allow group ops to read virtual-network-family in tenancy"]')


def test_lb_backend_set_update_keeps_every_field_the_get_returned():
    body = {"id": "ocid1.loadbalancer.oc1..x", "displayName": "x"}
    ref = LoadBalancerRef(flavor="lb", body=body, found_by="lb-ocid")
    backend_set = {
        "name": "bs", "policy": "LEAST_CONNECTIONS", "backendMaxConnections": 300,
        "backends": [{"name": "10.0.10.5:30417", "ipAddress": "10.0.10.5", "port": 30417, "weight": 2,
                      "maxConnections": 100, "backup": False, "drain": False, "offline": False}],
        "healthChecker": {"protocol": "HTTP", "port": 10256, "urlPath": "/healthz", "returnCode": 200,
                          "responseBodyRegex": "^ok$", "retries": 3, "timeoutInMillis": 3000,
                          "intervalInMillis": 10000},
        "sslConfiguration": {"certificateName": "backend-ca", "verifyDepth": 3, "verifyPeerCertificate": True,
                             "protocols": ["TLSv1.2"], "cipherSuiteName": "oci-default-ssl-cipher-suite-v1"},
        "sessionPersistenceConfiguration": {"cookieName": "JSESSIONID", "disableFallback": True},
    }
    args = shlex.split(backend_set_update_command(ref, "bs", backend_set))
    flag = {a: args[i + 1] for i, a in enumerate(args) if a.startswith("--") and i + 1 < len(args)}
    assert flag["--policy"] == "LEAST_CONNECTIONS" and flag["--backend-max-connections"] == "300"
    assert '"maxConnections":100' in flag["--backends"] and '"weight":2' in flag["--backends"]
    assert flag["--health-checker-response-body-regex"] == "^ok$"
    assert flag["--ssl-certificate-name"] == "backend-ca" and flag["--ssl-verify-peer-certificate"] == "true"
    assert flag["--protocols"] == '["TLSv1.2"]'
    assert flag["--session-persistence-cookie-name"] == "JSESSIONID"

"""OKD-CL-002: reads the diagnosis needed were denied (Kubernetes RBAC or OCI IAM)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator

from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop, Severity

# What the collector writes:
#   ... needs RBAC rule {apiGroups: [""], resources: [pods], verbs: [list]} in namespace default
# Bounded lists, so a message of unclosed "[" is not scanned to its end from each one.
_RULE = re.compile(r"RBAC rule \{apiGroups: \[([^\]]{0,200})\], resources: \[([^\]]{0,200})\], "
                   r"verbs: \[([^\]]{0,200})\]\}\s*"
                   r"(?:in namespace ([\w.-]+)|cluster-wide)")
# What the API server says: User "x" cannot list resource "pods" in API group "" in the namespace "default"
_FORBIDDEN = re.compile(r'cannot (\w+) resource "([\w/.-]+)" in API group "([\w.-]*)"'
                        r'(?: in the namespace "([\w.-]+)")?')
_IAM = re.compile(r"`(Allow [^`]+)`")


def parse_rules(reason: str) -> list[dict]:
    out = []
    for m in _RULE.finditer(reason):
        group = m.group(1).strip().strip('"')
        out.append({"apiGroup": group, "resource": m.group(2).strip(),
                    "verbs": [v.strip() for v in m.group(3).split(",") if v.strip()], "namespace": m.group(4)})
    for m in _FORBIDDEN.finditer(reason):
        out.append({"apiGroup": m.group(3), "resource": m.group(2), "verbs": [m.group(1)], "namespace": m.group(4)})
    return out


def role_yaml(rules: list[dict], namespace: str | None) -> str:
    kind = "Role" if namespace else "ClusterRole"
    meta = "  name: okedoctor-reader\n" + (f"  namespace: {namespace}\n" if namespace else "")
    body = "".join(f"- apiGroups: [\"{r['apiGroup']}\"]\n  resources: [{r['resource']}]\n"
                   f"  verbs: [{', '.join(r['verbs'])}]\n" for r in rules)
    return f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n{meta}rules:\n{body}"


def _merge(rules: list[dict]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for r in rules:
        key = (r["apiGroup"], r["resource"], r["namespace"])
        m = merged.setdefault(key, {**r, "verbs": []})
        m["verbs"] = sorted(set(m["verbs"]) | set(r["verbs"]))
    return list(merged.values())


class AccessDenied(Check):
    """Reads the diagnosis needed were denied: the Kubernetes RBAC rules (or OCI IAM statements) to grant.

    What it checks
        The collection record of the facts that could not be read because the API said no
        (403 Forbidden from Kubernetes, 401/404 NotAuthorizedOrNotFound from OCI). For each it
        names what was missing and prints the exact Role/ClusterRole rule, or the IAM policy
        statement, that allows the read.

    Why it breaks
        Checks that need a denied fact are skipped, so the diagnosis may miss the real cause:
        the verdict becomes "unknown" when nothing else failed. Typical: a namespace-scoped
        ServiceAccount that cannot list nodes, a user without pods/log or pods/exec, an OCI
        user without `read load-balancers` in the LB's compartment.

    How to fix
        Grant the rules shown (Role for namespaced reads, ClusterRole for nodes and
        StorageClasses) and bind them to the identity in use; for OCI add the IAM statement to
        a policy of the user's group. Or run with an identity that has them.
    """

    code = "OKD-CL-002"
    name = "access-denied"
    hop = Hop.CLUSTER
    severity = Severity.WARNING
    needs = ()

    def run(self, facts: Facts) -> Iterator[Finding]:
        denied = {fact: e for fact, e in facts.gaps.items() if e.get("kind") == "denied"}
        if not denied:
            return
        kube = {f: e for f, e in denied.items() if not f.startswith("oci")}
        oci = {f: e for f, e in denied.items() if f.startswith("oci")}
        if kube:
            yield self._rbac(facts, kube)
        if oci:
            yield self._iam(oci)

    def _rbac(self, facts: Facts, denied: dict) -> Finding:
        rules = _merge([r for e in denied.values() for r in parse_rules(e.get("reason", ""))])
        ns_rules = [r for r in rules if r["namespace"]]
        cl_rules = [r for r in rules if not r["namespace"]]
        ns = ns_rules[0]["namespace"] if ns_rules else facts.target.namespace
        commands, patches = ["kubectl apply -f okedoctor-rbac.yaml  # the YAML below"], []
        # Who okedoctor runs as is not a fact it holds: the summary asks the user to set SUBJECT.
        if ns_rules:
            commands.append(f"kubectl -n {ns} create rolebinding okedoctor-reader --role=okedoctor-reader "
                            '"$SUBJECT"  # SUBJECT=--serviceaccount=NS:NAME, or --user=NAME / --group=NAME')
        if cl_rules:
            commands.append("kubectl create clusterrolebinding okedoctor-reader --clusterrole=okedoctor-reader "
                            '"$SUBJECT"  # SUBJECT=--serviceaccount=NS:NAME, or --user=NAME / --group=NAME')
        commands.append("kubectl auth can-i --list" + (f" -n {ns}" if ns else ""))
        if ns_rules:
            patches.append(role_yaml(ns_rules, ns))
        if cl_rules:
            patches.append(role_yaml(cl_rules, None))
        return self.finding(
            f"Kubernetes denied {len(denied)} read(s) the diagnosis needs ({', '.join(sorted(denied))}): "
            "the checks using them were skipped",
            subject="rbac/okedoctor-reader",
            evidence={"denied": {f: e.get("reason") for f, e in sorted(denied.items())},
                      "rulesToGrant": rules},
            fix=Fix("Grant these rules to the identity okedoctor runs as (bind the Role/ClusterRole with a "
                    "RoleBinding/ClusterRoleBinding; set SUBJECT to that identity first), then run again.",
                    tuple(commands),
                    "---\n".join(patches) or None),
        )

    def _iam(self, denied: dict) -> Finding:
        statements = sorted({m.group(1) for e in denied.values() for m in _IAM.finditer(e.get("reason", ""))})
        return self.finding(
            f"OCI denied {len(denied)} read(s) the diagnosis needs ({', '.join(sorted(denied))}): the load balancer "
            "checks were skipped",
            subject="iam/okedoctor",
            evidence={"denied": {f: e.get("reason") for f, e in sorted(denied.items())},
                      "statementsToAdd": statements},
            fix=Fix("Create a separate policy with these statements, in the root compartment (set TENANCY_OCID; a "
                    "policy there may name any compartment), for the group of the OCI user (or the dynamic group of "
                    "the instance) okedoctor runs as. Not `policy update`: it replaces every statement of the "
                    "policy it updates.",
                    (_policy_create(statements),) if statements else ()),
        )


def _policy_create(statements: list[str]) -> str:
    return ('oci iam policy create --compartment-id "$TENANCY_OCID" --name okedoctor-read '
            "--description 'Reads okedoctor needs' --statements " + shlex.quote(json.dumps(statements)))

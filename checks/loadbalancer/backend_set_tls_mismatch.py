"""OKD-LB-013: the L7 load balancer and the backend disagree on TLS (backend set sslConfiguration)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from okedoctor.chain import backendtls as btls
from okedoctor.chain import lb as lbc
from okedoctor.chain import lbcerts
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.model import Finding, Fix, Hop


class BackendSetTlsMismatch(Check):
    """The L7 load balancer speaks TLS to backends that serve plain HTTP, or plain HTTP to a TLS port.

    What it checks
        For each backend set of the Service's L7 load balancer (`oci.loadBalancers[]`), its
        `sslConfiguration` against what the pods speak on the Service port's target: the port's
        `appProtocol`, else the container port's name (`https`, `websecure` / `http`, `web`),
        else its number (443, 8443 / 80, 8080). Also an SSL configuration with
        `verifyPeerCertificate: true` that trusts no CA (no `trustedCertificateAuthorityIds`, no
        `caCertificate` in the named bundle).
    Why it breaks
        With an SSL configuration the LB opens TLS to the NodePort; pods that answer plain HTTP
        fail the handshake and every request gets 502 (an HTTP listener) or a closed connection
        (TCP). The CCM's health check stays plain (`isForcePlainText`, or kube-proxy's
        healthz on 10256), so the backends look healthy while no request gets through. The
        reverse: a listener that ends TLS (SSL, or HTTP) sending plain HTTP to the ingress
        controller's https port gets "400 The plain HTTP request was sent to HTTPS port". A
        peer check with no CA to check against fails every handshake.
    How to fix
        Make both sides agree: remove `service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret`
        (the CCM drops the backend set's SSL) or serve TLS in the pods; point the Service port
        at the pods' plain port (`targetPort: http`), or add the annotation naming a TLS Secret
        so the LB re-encrypts; give the backend set a CA or turn peer verification off.
    """

    code = "OKD-LB-013"
    name = "backend-set-tls-mismatch"
    hop = Hop.LOADBALANCER
    needs = ("kubernetes", "oci")

    def run(self, facts: Facts) -> Iterator[Finding]:
        ref, svc = facts.load_balancer, facts.service
        if ref is None or svc is None or ref.flavor != "lb":
            return
        meta = svc["metadata"]
        ns, name = meta.get("namespace") or "default", meta["name"]
        anns = lbc.annotations(svc)
        for pair in lbc.port_pairs(facts):
            bset = pair.backend_set
            if bset is None or not pair.backend_set_name:
                continue
            ssl = bset.get("sslConfiguration") or None
            speech = btls.backend_speaks(facts, svc, pair.port)
            base = {"service": f"{ns}/{name}", "servicePort": {k: pair.port.get(k) for k in
                                                              ("name", "port", "targetPort", "nodePort", "appProtocol")
                                                              if pair.port.get(k) is not None},
                    "backendSet": pair.backend_set_name, "backendSetSsl": _ssl_view(ssl),
                    "listener": (pair.listener or {}).get("name"),
                    "listenerProtocol": (pair.listener or {}).get("protocol"),
                    "listenerSsl": bool((pair.listener or {}).get("sslConfiguration")),
                    "backendSpeaks": {True: "TLS", False: "plain HTTP", None: "unknown"}[speech.tls],
                    "knownBy": speech.how}
            if ssl and speech.tls is False:
                yield self._tls_to_plain(ref, pair, bset, ssl, anns, ns, name, base)
            elif not ssl and speech.tls is True and btls.terminates(pair.listener):
                yield self._plain_to_tls(facts, ref, pair, svc, anns, ns, name, base)
            elif ssl and ssl.get("verifyPeerCertificate") and not ssl.get("trustedCertificateAuthorityIds") \
                    and not btls.bundle_has_ca(ref, ssl):
                yield self._verify_without_ca(ref, pair, bset, ssl, base)

    def _tls_to_plain(self, ref, pair, bset, ssl, anns, ns, name, evidence) -> Finding:
        l7 = str((pair.listener or {}).get("protocol") or "").upper() in btls.L7_PROTOCOLS
        effect = "every request gets 502 Bad Gateway" if l7 else "every connection is closed after the handshake"
        if btls.BACKENDSET_SECRET in anns and ref.ccm_managed:
            evidence["annotation"] = {btls.BACKENDSET_SECRET: anns[btls.BACKENDSET_SECRET]}
            fix = Fix(f"The pods serve plain HTTP ({evidence['knownBy']}) but the Service asks the LB to "
                      f"re-encrypt to them: remove the annotation (the cloud controller manager then drops the "
                      f"backend set's SSL configuration), or make the pods serve TLS on that port.",
                      (f"kubectl annotate svc -n {ns} {name} {btls.BACKENDSET_SECRET}-",
                       f"kubectl get svc -n {ns} {name} -o yaml"))
        else:
            plain = copy.deepcopy(bset)
            plain["sslConfiguration"] = None
            fix = Fix(f"The pods serve plain HTTP ({evidence['knownBy']}) but backend set {pair.backend_set_name} "
                      "speaks TLS to them: drop its SSL configuration (the command keeps every other field), or "
                      "make the pods serve TLS on that port.",
                      (lbc.backend_set_update_command(ref, pair.backend_set_name, plain),))
        return self.finding(
            f"backend set {pair.backend_set_name} speaks TLS to backends that serve plain HTTP on NodePort "
            f"{pair.node_port}: {effect}",
            subject=ref.id, evidence=evidence, fix=fix)

    def _plain_to_tls(self, facts, ref, pair, svc, anns, ns, name, evidence) -> Finding:
        idx = next(i for i, p in enumerate(lbc.spec(svc).get("ports") or []) if p is pair.port)
        plain = btls.plain_port(facts, svc)
        cmds = []
        if plain:
            target = plain.get("name") or plain.get("containerPort")
            cmds.append(f"kubectl patch svc -n {ns} {name} --type=json -p "
                        f"'[{{\"op\":\"replace\",\"path\":\"/spec/ports/{idx}/targetPort\",\"value\":\"{target}\"}}]'")
        # The listener's own Secret will do: the LB does not verify the backend's certificate (the CCM's setting).
        secret = anns.get("service.beta.kubernetes.io/oci-load-balancer-tls-secret") or "TLS-SECRET"
        cmds.append(lbcerts.annotate_command(name, ns, {btls.BACKENDSET_SECRET: secret}))
        summary = ("The listener ends the client's TLS and sends plain HTTP to a port that expects TLS "
                   f"({evidence['knownBy']}): ")
        summary += (f"point port {pair.port.get('port')} at the pods' plain port {plain.get('name') or ''} "
                    f"({plain.get('containerPort')}) (the LB already terminates TLS), or have the LB re-encrypt: "
                    f"annotate the Service with {btls.BACKENDSET_SECRET} naming a TLS Secret." if plain else
                    f"have the LB re-encrypt: annotate the Service with {btls.BACKENDSET_SECRET} naming a TLS "
                    "Secret (the CCM gives the backend set an SSL configuration), or serve plain HTTP there.")
        return self.finding(
            f"listener {(pair.listener or {}).get('name')} sends plain HTTP to a TLS port (backend set "
            f"{pair.backend_set_name} has no SSL configuration): the backend answers 400 or closes the connection",
            subject=ref.id, evidence=evidence, fix=Fix(summary, tuple(cmds)))

    def _verify_without_ca(self, ref, pair, bset, ssl, evidence) -> Finding:
        relaxed = copy.deepcopy(bset)
        relaxed["sslConfiguration"] = {**ssl, "verifyPeerCertificate": False}
        return self.finding(
            f"backend set {pair.backend_set_name} verifies the backends' certificates against no CA: "
            "every TLS handshake to them fails (502)",
            subject=ref.id, evidence=evidence,
            fix=Fix(f"Give the backend set the CA that signed the backends' certificate (a caCertificate in bundle "
                    f"{ssl.get('certificateName')!r}, or trustedCertificateAuthorityIds), or turn peer verification "
                    "off (the cloud controller manager's own setting):",
                    (lbc.backend_set_update_command(ref, pair.backend_set_name, relaxed),)))


def _ssl_view(ssl: dict | None) -> dict | None:
    if not ssl:
        return None
    return {k: ssl.get(k) for k in ("certificateName", "certificateIds", "trustedCertificateAuthorityIds",
                                    "verifyPeerCertificate", "verifyDepth", "protocols", "cipherSuiteName")
            if ssl.get(k) not in (None, [], "")}

"""OKD-NIC-005: the native IngressClass names IngressClassParameters that do not exist."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain import native as nat
from okedoctor.chain import route as routes
from okedoctor.check import Check
from okedoctor.facts import KIND_FACTS, Facts
from okedoctor.model import Finding, Fix, Hop, Severity


class NativeClassParametersMissing(Check):
    """The OCI Native Ingress Controller's IngressClass names IngressClassParameters that do not exist.

    What it checks
        For a URL served by the OCI Native Ingress Controller: the IngressClass's
        `spec.parameters` (kind IngressClassParameters, group ingress.oraclecloud.com) must name
        an object that exists in its namespace. When the object (or the CRD) cannot be read,
        the check says so and the ingress hop is unknown, never ok.
    Why it breaks
        The controller reads the parameters (compartment, subnet, LB name, private or public,
        bandwidth) on every sync of the class: without them it stops reconciling the class's LB,
        so new Ingresses, rules and pod IPs never reach the LB, and a class made before its
        parameters never gets an LB at all. A class whose `spec.parameters` names no namespace
        (no `scope: Namespace`) is never served either: the controller looks the namespaced
        parameters up in no namespace, wherever they exist.
    How to fix
        Create the IngressClassParameters the class names (or point the class at the existing
        one, with its namespace); `kubectl get ingressclassparameters -A` lists them.
    """

    code = "OKD-NIC-005"
    name = "native-class-parameters-missing"
    hop = Hop.INGRESS
    needs = ("kubernetes",)

    def run(self, facts: Facts) -> Iterator[Finding]:
        walk = routes.walk(facts)
        if walk is None or walk.native_class is None:
            return
        wanted = nat.parameters_ref(walk.native_class)
        if nat.parameters(facts, walk.native_class) is not None:
            return
        if facts.unavailable(KIND_FACTS[nat.PARAMS_KIND]) is not None:
            return  # not read is not absent: the runner reports the check as run without them
        cls = nat.class_name(walk.native_class)
        fix = Fix("Create the IngressClassParameters the class names (compartmentId, subnetId, loadBalancerName, "
                  "isPrivate, bandwidth), or point the class at an existing one.",
                  ("kubectl get ingressclassparameters -A", f"kubectl get ingressclass {cls} -o yaml"))
        if wanted is None:
            title = f"IngressClass {cls} of the OCI Native Ingress Controller names no IngressClassParameters"
        elif not wanted[0]:
            # The controller looks them up in the namespace the class names, here none: a namespaced
            # object is never found there, wherever it exists (oracle/oci-native-ingress-controller#79).
            title = (f"IngressClass {cls} names IngressClassParameters {wanted[1]} without a namespace: the "
                     "controller looks for them in no namespace and never finds them")
            fix = Fix("Name the namespace of the IngressClassParameters in the class (spec.parameters.scope: "
                      "Namespace and spec.parameters.namespace: the namespace the first command shows), or create "
                      "them if none exist; the controller looks them up only where the class points.",
                      (f"kubectl get ingressclassparameters -A --field-selector metadata.name={wanted[1]}",
                       f"kubectl get ingressclass {cls} -o yaml"))
        else:
            title = f"IngressClass {cls} names IngressClassParameters {wanted[0]}/{wanted[1]}, which do not exist"
        yield self.finding(
            title,
            subject=f"ingressclass/{cls}",
            evidence={"ingressClass": cls, "parameters": (walk.native_class.get("spec") or {}).get("parameters"),
                      "loadBalancer": walk.lb_id},
            fix=fix,
            # The LB that exists keeps serving; what no longer reaches it is every later change.
            severity=Severity.WARNING if walk.lb_id else Severity.ERROR,
        )

"""OKD-POD-016: a Secret/ConfigMap shaped for one use (env file or variables) is used the other way."""

from __future__ import annotations

from collections.abc import Iterator

from okedoctor.chain.causes import service_serving
from okedoctor.chain.secrets import mismatches
from okedoctor.check import Check
from okedoctor.facts import Facts
from okedoctor.kube import workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity


class SecretEnvFileShape(Check):
    """A Secret or ConfigMap is shaped for one use (a .env file, or one key per variable) but used the other way.

    What it checks
        Key names only, never values. (1) An object created with `--from-env-file` (several keys,
        all variable names like DATABASE_URL) mounted as a volume where the app expects ONE file:
        a subPath or mountPath naming `.env` that is not a key, or a "no such file" in the logs
        under the mount path. (2) The reverse: an object holding a whole file under one key
        (`.env`, `app.env`, `*.properties`, made with `--from-file`) loaded with `envFrom`.

    Why it breaks
        `--from-env-file` makes one key per variable, so a volume shows one file per variable
        and no `.env` file: the app finds no configuration and exits. The other way, `envFrom`
        turns each KEY into one variable, so the container gets a single variable named `.env`
        holding the whole file, and DATABASE_URL and friends are unset.

    How to fix
        Make the shape match the use: recreate the object with `--from-env-file` to use it with
        `envFrom`, or with `--from-file=.env=PATH` to mount it as a file (or mount the
        per-variable object with envFrom instead). The commands are in the finding.
    """

    code = "OKD-POD-016"
    name = "secret-env-file-shape"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        seen: set[tuple] = set()
        severity = Severity.WARNING if service_serving(facts) else Severity.ERROR
        for pod in facts.pods:
            ns = pod["metadata"].get("namespace", "")
            ref = workload_ref(facts, pod)
            for m in mismatches(facts, pod):
                key = (ref, m["use"], m["name"], m["container"])
                if key in seen:
                    continue
                seen.add(key)
                yield self._finding(ns, ref, m, severity)

    def _finding(self, ns: str, ref: str, m: dict, severity: Severity) -> Finding:
        kind, name, lower = m["kind"], m["name"], m["kind"].lower()
        create = "secret generic" if kind == "Secret" else "configmap"
        if m["use"] == "envFrom":
            title = (f"{kind} {name} holds a whole env file under key(s) {', '.join(m['fileKeys'])} but {ref} "
                     "loads it with envFrom: the variables inside are never set")
            commands = (
                f"kubectl -n {ns} create {create} {name} --from-env-file=.env --dry-run=client -o yaml "
                "| kubectl apply -f -",
                f"kubectl -n {ns} rollout restart {ref}",
            )
            summary = f"Recreate {kind} {name} with --from-env-file (one key per variable), then restart."
        else:
            title = (f"{kind} {name} has one key per variable ({len(m['keys'])} keys, made with --from-env-file) "
                     f"but {ref} mounts it at {m['mountPath']} and the app expects the file {m['expectsFile']}")
            commands = (
                f"kubectl -n {ns} create {create} {name} --from-file={m['expectsFile']}=.env --dry-run=client "
                "-o yaml | kubectl apply -f -",
                f"kubectl -n {ns} rollout restart {ref}",
            )
            summary = (f"Recreate {kind} {name} with --from-file={m['expectsFile']}=.env so it holds the file, "
                       f"or drop the volume and load the variables with envFrom ({lower}Ref: {name}).")
        patch = None
        if m["use"] == "volume":
            patch = (f"# or: load the variables directly\nenvFrom:\n- {lower}Ref:\n    name: {name}\n")
        evidence = {k: v for k, v in m.items() if v is not None}
        return self.finding(title, subject=f"{lower}/{ns}/{name}", evidence=evidence,
                            fix=Fix(summary, commands, patch), severity=severity)

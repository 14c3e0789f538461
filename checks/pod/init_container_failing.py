"""OKD-POD-024: an init container of the Service's pods fails (or never finishes), so the app never starts."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

from okedoctor.chain import causes as _causes
from okedoctor.check import Check
from okedoctor.facts import Facts, Obj
from okedoctor.kube import LogHint, dependency_commands, log_hints, tail, workload_ref
from okedoctor.model import Finding, Fix, Hop, Severity

FSS_PROVISIONERS = ("fss.csi.oraclecloud.com",)
EXIT_MEANING = {
    1: "the init command exited with an error",
    126: "the command is not executable (permissions, wrong architecture)",
    127: "the command was not found in the image",
    137: "killed with SIGKILL (memory limit, or the pod was stopped)",
}


class InitContainerFailing(Check):
    """An init container of the Service's pods fails or never finishes, so the app containers never start.

    What it checks
        The init containers (not native sidecars) of the Service's pods: one that exited
        non-zero (`Init:Error`, `Init:CrashLoopBackOff`) or is still running while the pod is not
        initialised (`Init:0/1`, typically waiting for a dependency: `until nslookup db`). It
        reports the container's state and reason, exit code, restarts and the redacted tail of
        its (previous) log, and says in plain words what it recognises there, notably a `chown`
        refused with "Operation not permitted" on a volume: the File Storage (NFS) export
        squashes root, so root in the container may not change owners.

    Why it breaks
        Kubernetes runs init containers one after the other and starts the app containers only
        when all of them exited 0. Until then the pod is never Ready, is no endpoint of the
        Service, and when every replica is held back the load balancer has nothing to send to.

    How to fix
        Read the init container's log (`kubectl logs POD -c INIT --previous`) and fix what it
        says. For one waiting on a dependency whose name does not resolve (nslookup's NXDOMAIN)
        or that refuses connections: deploy it or create its Service, or correct the name. For a
        refused `chown` on File Storage: let Kubernetes set the group with the pod's
        `securityContext.fsGroup` and run the app as that group, drop the `chown`, or (if root
        must own files) set the export's identity squash to NONE for the workers' subnet with
        `oci fs export update --export-options`.
    """

    code = "OKD-POD-024"
    name = "init-container-failing"
    hop = Hop.POD

    def run(self, facts: Facts) -> Iterator[Finding]:
        severity = Severity.WARNING if _causes.service_serving(facts) else Severity.ERROR
        groups: dict[tuple[str, str], list[tuple[Obj, Obj, Obj, str]]] = {}
        for pod in facts.pods:
            found = _causes.blocking_init(pod)
            if found:
                c, status, how = found
                groups.setdefault((workload_ref(facts, pod), c.get("name", "")), []).append((pod, c, status, how))
        for (ref, _), members in groups.items():
            yield self._finding(facts, ref, members, severity)

    def _finding(self, facts: Facts, ref: str, members: list[tuple[Obj, Obj, Obj, str]],
                 severity: Severity) -> Finding:
        pod, c, status, how = members[0]
        ns, cname, pname = pod["metadata"].get("namespace", ""), c.get("name", ""), pod["metadata"]["name"]
        state = status.get("state") or {}
        term = state.get("terminated") or (status.get("lastState") or {}).get("terminated") or {}
        exit_code = term.get("exitCode")
        restarts = max(int(s.get("restartCount") or 0) for _, _, s, _ in members)
        live = facts.container_live(ns, pname, cname)
        logs = (live or {}).get("previousLogs") or (live or {}).get("logs")
        hints = log_hints(logs)
        reason = (state.get("waiting") or {}).get("reason") or ("Running" if "running" in state else term.get("reason"))
        evidence: dict = {
            "pods": [m[0]["metadata"]["name"] for m in members], "initContainer": cname, "image": c.get("image"),
            "command": [*(c.get("command") or []), *(c.get("args") or [])] or None,
            "state": reason, "restartCount": restarts,
        }
        if how == "failed":
            evidence.update(lastExitCode=exit_code, lastReason=term.get("reason"), finishedAt=term.get("finishedAt"))
            if exit_code in EXIT_MEANING:
                evidence["exitCodeMeans"] = EXIT_MEANING[int(exit_code)]
        else:
            evidence["runningSince"] = (state.get("running") or {}).get("startedAt")
        if live is None:
            evidence["logs"] = "not observed (run with live access to read the init container's log)"
        else:
            evidence["logTail"] = tail(logs, 10)
        if hints:
            evidence["recognised"] = [h.plain for h in hints]
        chown = next((h for h in hints if h.kind == "chown"), None)
        volume = _volume_at(facts, pod, c, chown.detail["path"]) if chown else None
        if volume:
            evidence["volume"] = volume
        if how == "failed":
            why = hints[0].plain if hints else EXIT_MEANING.get(int(exit_code or 0), "see its log")
            title = (f"Init container {cname} of {ref} fails (exit code {exit_code}, {restarts} restarts), so the "
                     f"app never starts: {why}")
        else:
            title = (f"Init container {cname} of {ref} has not finished (still running, pod not initialised), "
                     "so the app never starts" + (f": {hints[0].plain}" if hints else ""))
        return self.finding(
            title,
            subject=f"{ref.replace('/', f'/{ns}/', 1)}/{cname}",
            evidence=evidence,
            fix=_waits_fix(ns, pname, cname, hints) or _fix(ns, ref, pname, cname, chown, volume,
                                                            _worker_cidr(facts)),
            severity=severity,
        )


def _volume_at(facts: Facts, pod: Obj, c: Obj, path: str) -> dict | None:
    """The volume mounted at (or above) `path` in container c, with what backs it."""
    mounts = sorted((m for m in c.get("volumeMounts") or []
                     if path == m.get("mountPath") or path.startswith(m.get("mountPath", "").rstrip("/") + "/")),
                    key=lambda m: len(m.get("mountPath", "")), reverse=True)
    if not mounts:
        return None
    mount = mounts[0]
    vol = next((v for v in (pod.get("spec") or {}).get("volumes") or [] if v.get("name") == mount.get("name")), {})
    out: dict = {"name": mount.get("name"), "mountPath": mount.get("mountPath")}
    if vol.get("nfs"):
        out["nfs"] = f"{vol['nfs'].get('server')}:{vol['nfs'].get('path')}"
        out["fileStorage"] = True
    claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
    if claim:
        out["claim"] = claim
        pvc = facts.pvc(pod["metadata"].get("namespace", ""), claim) or {}
        sc_name = (pvc.get("spec") or {}).get("storageClassName")
        sc = facts.storage_class(sc_name) if pvc else None
        if sc:
            out["storageClass"] = sc["metadata"]["name"]
            out["provisioner"] = sc.get("provisioner")
            out["fileStorage"] = sc.get("provisioner") in FSS_PROVISIONERS
    return out


def _waits_fix(ns: str, pod: str, cname: str, hints: list[LogHint]) -> Fix | None:
    """An init container that waits for a dependency (`until nslookup db`): make the dependency exist
    (or the name right); the pod goes on by itself once it answers."""
    hint = next((h for h in hints if h.kind in ("dns", "refused")), None)
    if hint is None:
        return None
    dep = hint.detail.get("host") or hint.detail.get("dependency") or ""
    host = dep.rsplit(":", 1)[0]
    what = (f"the name {host} does not resolve: no Service {host.split('.')[0]} exists in "
            f"{'namespace ' + ns if '.' not in host else 'the namespace it names'}" if hint.kind == "dns"
            else f"{dep} refuses connections: the Service has no ready endpoint on that port")
    return Fix(
        f"Init container {cname} waits for {dep}, and {what}. Deploy the dependency (or create its Service), or "
        f"correct the name in the init command (NAME.NAMESPACE for a Service in another namespace); the pod "
        "continues by itself once it answers, no restart needed.",
        (*dependency_commands(ns, dep), f"kubectl -n {ns} logs {pod} -c {cname} --tail=20"),
    )


def _fix(ns: str, ref: str, pod: str, cname: str, chown: LogHint | None, volume: dict | None, cidr: str) -> Fix:
    logs = f"kubectl -n {ns} logs {pod} -c {cname} --previous --tail=50"
    current = f"kubectl -n {ns} logs {pod} -c {cname} --tail=50"
    if chown is None:
        return Fix(f"Read the init container {cname}'s log and fix the failure it shows; the app containers start "
                   "only when every init container exited 0.",
                   (logs, current, f"kubectl -n {ns} describe pod {pod}"))
    patch = {"spec": {"template": {"spec": {"securityContext": {
        "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000, "fsGroupChangePolicy": "OnRootMismatch"}}}}}
    option = {"source": cidr or "WORKER_SUBNET_CIDR", "access": "READ_WRITE", "identitySquash": "NONE",
              "requirePrivilegedSourcePort": False}
    # The export's OCID is not a fact okedoctor holds: EXPORT_ID, which the summary asks to set.
    export = f'oci fs export update --export-id "$EXPORT_ID" --export-options {shlex.quote(json.dumps([option]))}'
    backing = (f"claim {volume['claim']}" if volume.get("claim") else f"NFS {volume['nfs']}" if volume.get("nfs")
               else volume["mountPath"]) if volume else ""
    where = f" on volume {volume['name']} ({backing})" if volume else ""
    return Fix(
        f"The init container's chown of {chown.detail['path']}{where} is refused: the File Storage export squashes "
        "root to its anonymous user. Choose one: (1) no chown: remove it (or the whole init container "
        f"{cname}) and run the app as a UID/GID that may write the directory, with the pod's securityContext "
        "(runAsUser/runAsGroup/fsGroup; patch below; the kubelet applies fsGroup only where the CSI driver "
        "supports it, and a root-squashing export refuses its chown too); (2) set the export's anonymousUid/"
        "anonymousGid to the app's UID/GID so squashed root writes as the app; (3) if root must own files, set "
        "the export's identitySquash to NONE for the workers' subnet. `oci fs export update --export-options` "
        "replaces ALL the export's options: read them first with `oci fs export get` and keep the other entries "
        "(set EXPORT_ID to the export's OCID: `oci fs export list --compartment-id ...` lists them).",
        (f"kubectl -n {ns} patch {ref} -p '{json.dumps(patch)}'",
         "oci fs export get --export-id \"$EXPORT_ID\" --query 'data.\"export-options\"'",
         export, logs),
        "spec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 1000   # the UID the app runs as\n"
        "        runAsGroup: 1000\n        fsGroup: 1000\n        fsGroupChangePolicy: OnRootMismatch\n",
    )


def _worker_cidr(facts: Facts) -> str:
    subnets = facts.worker_subnets if facts.oci else []
    return (subnets[0].get("cidrBlock") or "") if subnets else ""

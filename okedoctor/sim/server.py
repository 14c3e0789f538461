"""Simulator: start the Kubernetes, OCI and internet listeners for one snapshot, on loopback."""

from __future__ import annotations

import base64
import re
import secrets
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from okedoctor.errors import UsageError
from okedoctor.sim.certs import make_api_key, make_tls
from okedoctor.sim.consequences import Consequences
from okedoctor.sim.denials import denial_faults
from okedoctor.sim.edgecerts import EdgeCerts
from okedoctor.sim.httpbase import Behaviour, Fault, Faults, Recorder, SimServer
from okedoctor.sim.internet import Internet
from okedoctor.sim.kubeapi import KubeApp, KubeHandler
from okedoctor.sim.kubestore import Store
from okedoctor.sim.ociapi import OciApp, OciHandler
from okedoctor.snapshot import Snapshot

DEFAULT_GIT_VERSION = "v1.31.1"  # kubectl's dispatcher needs >= 1.31 to exec over WebSocket
SIM_TENANCY = "ocid1.tenancy.oc1..aaaaaaaaokedoctorsimtenancy"
SIM_USER = "ocid1.user.oc1..aaaaaaaaokedoctorsimuser"
INTERNET_ERRORS = ("refused", "timeout", "reset", "tls")


class Simulator:
    """Serve `snapshot` as a simulated OKE on 127.0.0.1 until the context exits.

    `env` holds the settings that point kubectl, the oci SDK and okedoctor at it;
    `requests` lists every request served, one dict each (unless keep_requests is False, for a
    server that runs for days: then only the request log file records them).
    """

    def __init__(self, snapshot: Snapshot, workdir: Path | str, *, latency_ms: int = 0,
                 request_log: Path | str | None = None, faults: list[Any] | None = None,
                 keep_requests: bool = True) -> None:
        self.snapshot = snapshot
        self.workdir = Path(workdir)
        parsed = [f if isinstance(f, Fault) else Fault.from_dict(f, "fault") for f in faults or []]
        file_faults = snapshot.extra.get("faults") or []
        if not isinstance(file_faults, list):
            raise UsageError("faults: must be a list of {api, path, status, delay_ms, drop, times, mode...}")
        parsed += [Fault.from_dict(f, f"faults[{i}]") for i, f in enumerate(file_faults)]
        parsed += denial_faults(snapshot.collection)  # last: an explicit fault wins
        self._recorder = Recorder(Path(request_log) if request_log else None, keep_requests)
        self._behaviour = Behaviour(self._recorder, Faults(parsed), int(latency_ms or 0))
        self._servers: list[SimServer] = []
        self._kube_app: KubeApp | None = None
        self._oci_app: OciApp | None = None
        self.consequences: Consequences | None = None
        self._internet = Internet(self._behaviour)
        self.env: dict[str, str] = {}
        self.token = ""
        self.kube_url = ""
        self.oci_url = ""
        self.ca_file: Path | None = None
        self._check_live()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._recorder.requests

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _check_live(self) -> None:
        live = self.snapshot.live or {}
        for key in ("containers", "internet"):
            if live.get(key) is not None and not isinstance(live[key], dict):
                raise UsageError(f"live.{key} must be a mapping")
        for key, entry in (live.get("containers") or {}).items():
            if str(key).count("/") != 2 or not isinstance(entry, dict):
                raise UsageError(f"live.containers key {key!r} must be NAMESPACE/POD/CONTAINER with a mapping")
            tools = entry.get("tools", [])
            if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
                raise UsageError(f"live.containers[{key!r}].tools must be a list of executable names")
            if not isinstance(entry.get("localhost", {}), dict):
                raise UsageError(f"live.containers[{key!r}].localhost must map ports to answers")
        for address, ans in (live.get("internet") or {}).items():
            if not re.fullmatch(r"([^\s:\[\]]+|\[[0-9A-Fa-f:.]+\]):\d+", str(address)):
                raise UsageError(f"live.internet key {address!r} is not HOST:PORT")
            if not isinstance(ans, dict) or ("error" not in ans and "status" not in ans):
                raise UsageError(f"live.internet[{address!r}] must be {{status, body}} or {{error: ...}}")
            if "error" in ans and not isinstance(ans["error"], str):
                raise UsageError(f"live.internet[{address!r}].error must be a string such as "
                                 f"{', '.join(INTERNET_ERRORS)}")

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        live = self.snapshot.live or {}
        internet = live.get("internet") or {}
        public_hosts = [str(a).rsplit(":", 1)[0].strip("[]") for a in internet]
        tls = make_tls(self.workdir, public_hosts)
        self.ca_file = tls.ca_file
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
        try:
            self._start_kube(ctx, live)
            self._start_oci()
            self._edge = EdgeCerts(self.workdir)
            self._edge.write_trust()
            self._internet.start(internet, ctx, self._edge)
            self._watch_writes(internet)
        except BaseException:
            self.stop()
            raise
        self._write_kubeconfig(tls.ca_pem)
        self.env = {
            "KUBECONFIG": str(self.workdir / "kubeconfig"),
            "OCI_CLI_CONFIG_FILE": str(self.workdir / "oci_config"),
            "OCI_CLI_PROFILE": "DEFAULT",
            "OCI_CLI_RC_FILE": str(self.workdir / "oci_cli_rc"),
            "OKEDOCTOR_OCI_ENDPOINT": self.oci_url,
            "OKEDOCTOR_INTERNET_REDIRECT": ",".join(f"{a}={t}" for a, t in self._internet.redirects.items()),
            "NO_PROXY": "127.0.0.1,localhost",
            # The names the file resolves, and the CAs its public certificates chain to: a client
            # of the simulator never asks the machine's resolver nor trusts the machine's CAs.
            "OKEDOCTOR_DNS": dns_setting(live.get("dns") or {}),
            "OKEDOCTOR_INTERNET_CA": str(self._edge.ca_file),
        }

    def stop(self) -> None:
        self._behaviour.stopped.set()
        if self._kube_app is not None:
            self._kube_app.stopping.set()
        servers = [*self._servers, *self._internet.servers]
        # Each shutdown waits for its serve loop's next poll: wait for them all at once.
        closers = [threading.Thread(target=server.close_all, daemon=True) for server in servers]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()
        self._servers.clear()
        self._internet.servers.clear()
        self._internet.close()

    def _serve(self, server: SimServer, name: str) -> None:
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True).start()

    def _watch_writes(self, internet: dict[str, Any]) -> None:
        """After a write to either API, the observations follow the new configuration."""
        store = self._kube_app.store if self._kube_app else None

        def kube_objects() -> list[dict[str, Any]]:
            if store is None:
                return []
            return [o for (group, _, _), items in store.objects.items() if group != "events.k8s.io" for o in items]

        oci = self._oci_app.oci if self._oci_app else {}
        self.consequences = Consequences(kube_objects, oci, internet, self._internet.answer,
                                         (self.snapshot.live or {}).get("containers") or {})
        for app in (self._oci_app, self._kube_app):
            if app is not None:
                app.on_write = self.consequences.recompute
                app.before_write = self.consequences.before_write

    def _start_kube(self, ctx: ssl.SSLContext, live: dict[str, Any]) -> None:
        self.token = secrets.token_urlsafe(32)
        token_file = self.workdir / "kube-token"
        token_file.touch(mode=0o600, exist_ok=True)
        token_file.chmod(0o600)
        token_file.write_text(self.token + "\n", encoding="utf-8")
        app = KubeApp(Store.from_objects(self.snapshot.kubernetes), live.get("containers") or {},
                      self.token, SIM_USER, _git_version(self.snapshot))
        self._kube_app = app
        server = SimServer(KubeHandler, self._behaviour, app)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        app.address = f"127.0.0.1:{server.port}"
        self.kube_url = f"https://127.0.0.1:{server.port}"
        self._serve(server, "sim-kubernetes")

    def _start_oci(self) -> None:
        key = make_api_key(self.workdir)
        region = str(self.snapshot.context.get("region") or "us-ashburn-1")
        app = OciApp(self.snapshot.oci if self.snapshot.oci is not None else {},
                     f"{SIM_TENANCY}/{SIM_USER}/{key.fingerprint}", key.private_key.public_key())
        self._oci_app = app
        server = SimServer(OciHandler, self._behaviour, app)
        self.oci_url = f"http://127.0.0.1:{server.port}"
        self._serve(server, "sim-oci")
        config = self.workdir / "oci_config"
        config.touch(mode=0o600, exist_ok=True)
        config.write_text(
            "[DEFAULT]\n"
            f"user={SIM_USER}\nfingerprint={key.fingerprint}\ntenancy={SIM_TENANCY}\n"
            f"region={region}\nkey_file={key.key_file}\n", encoding="utf-8")
        # The oci CLI's own settings file (OCI_CLI_RC_FILE): its `endpoint` default sends every
        # `oci ...` command to the simulator, not to the region's real endpoint (the SDK appends
        # each service's API-version path itself). Plain HTTP, so no CA bundle is needed.
        (self.workdir / "oci_cli_rc").write_text(f"[DEFAULT]\nendpoint = {self.oci_url}\n", encoding="utf-8")

    def _write_kubeconfig(self, ca_pem: bytes) -> None:
        ctx = self.snapshot.context
        cluster = str(ctx.get("cluster") or "sim")
        context = str(ctx.get("kubeContext") or "sim")
        region = str(ctx.get("region") or "us-ashburn-1")
        user = f"user-{cluster.rsplit('.', 1)[-1][-11:]}"
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {
                "server": self.kube_url,
                "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
            "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
            "current-context": context,
            "preferences": {},
            "users": [{"name": user, "user": {"exec": {
                # What `oci ce create-kubeconfig` writes, with this Python standing in for `oci`.
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": sys.executable,
                "args": ["-m", "okedoctor.sim.token", "ce", "cluster", "generate-token",
                         "--cluster-id", cluster, "--region", region],
                "env": [{"name": "OKEDOCTOR_SIM_TOKEN_FILE", "value": str(self.workdir / "kube-token")}],
                "interactiveMode": "IfAvailable",
                "provideClusterInfo": False}}}],
        }
        path = self.workdir / "kubeconfig"
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def dns_setting(dns: dict[str, Any]) -> str:
    """`live.dns` as OKEDOCTOR_DNS: `name=addr addr,name=addr` (read by okedoctor/live/resolve.py).
    Set but empty, it resolves nothing: every name is NXDOMAIN, as for a file without answers."""
    return ",".join(f"{name}={' '.join(str(a) for a in answers or [])}" for name, answers in dns.items())


def _git_version(snap: Snapshot) -> str:
    """The nodes' kubelet version when it is 1.31 or later (what OKE runs), else v1.31.1."""
    best = DEFAULT_GIT_VERSION
    for obj in snap.kubernetes:
        if obj.get("kind") != "Node":
            continue
        version = str(((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "")
        m = re.fullmatch(r"v1\.(\d+)\.(\d+)", version)
        if m and int(m.group(1)) >= 31:
            best = version
    return best

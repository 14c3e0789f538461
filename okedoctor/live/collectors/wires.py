"""Where a run's reads go: the real APIs, or (tests) anything answering the same narrow calls."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from okedoctor.errors import CollectionError, UsageError
from okedoctor.live import oci_api
from okedoctor.live.collectors.oci import OciWire
from okedoctor.live.internet import probe_address
from okedoctor.live.kube import KubeTarget
from okedoctor.live.kube_reads import ApiClientWire, KubeWire
from okedoctor.options import LiveOptions

# (address "ip:port", timeout, redirect map, tls) -> what a client on the internet saw, or None
InternetProbe = Callable[[str, float, dict | None, bool], dict[str, Any] | None]


def _api_client_wire(kt: KubeTarget) -> KubeWire:
    from okedoctor.live.kube import make_api_client

    return ApiClientWire(make_api_client(kt, pool_size=32))


def _oci_reader(setup: oci_api.OciSetup, region: str | None, opts: LiveOptions,
                on_request: Callable[[], None]) -> OciWire:
    return oci_api.OciReader(setup, region=region, endpoint=opts.oci_endpoint,
                             timeout=min(15.0, max(1.0, opts.timeout)), on_request=on_request)


def oci_setup(opts: LiveOptions) -> oci_api.OciSetup | Exception | None:
    """Read the OCI config (shared by every Service of a run). An OciDisabled/other failure is returned."""
    auth = oci_api.resolve_auth(opts.auth)  # the auth in use, default included, for every message below
    endpoint = opts.oci_endpoint or os.environ.get("OKEDOCTOR_OCI_ENDPOINT")
    # Before the config is read: a principal signer must never be built against the simulator.
    oci_api.refuse_principal_on_loopback(auth, endpoint)
    try:
        setup = oci_api.load_setup(auth=auth, profile=opts.profile, config_file=opts.config_file,
                                   region=opts.region)
        if setup.auth in oci_api.PRINCIPAL_AUTHS:
            setup.signer = oci_api.principal_signer(setup, endpoint)
    except oci_api.OciDisabled as exc:
        return exc
    except (UsageError, CollectionError):
        raise
    except Exception as exc:  # a principal signer could not reach its token service
        return oci_api.OciUnavailable(f"OCI {auth} authentication failed: {oci_api._first_line(exc)}")
    return setup


@dataclass(frozen=True)
class Wires:
    oci_setup: Callable[[LiveOptions], oci_api.OciSetup | Exception | None] = oci_setup
    kube: Callable[[KubeTarget], KubeWire] = _api_client_wire
    oci: Callable[[oci_api.OciSetup, str | None, LiveOptions, Callable[[], None]], OciWire] = _oci_reader
    internet: InternetProbe = probe_address


REAL = Wires()

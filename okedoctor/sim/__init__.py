"""The simulated OKE: the Kubernetes API, the OCI REST API and the internet on loopback.

`Simulator(snapshot, workdir)` serves a snapshot/scenario file over the real wire protocols so
that kubectl, the kubernetes client, the oci SDK and okedoctor's live code run against it end to
end. The package imports lazily so that `python -m okedoctor.sim.token` (the kubeconfig's
credential plugin, run for every kubectl call) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from okedoctor.sim.server import Simulator

__all__ = ["Simulator"]


def __getattr__(name: str) -> Any:
    if name == "Simulator":
        from okedoctor.sim.server import Simulator

        return Simulator
    raise AttributeError(name)

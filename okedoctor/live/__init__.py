"""Live diagnosis: collect one Service's facts from the cluster, OCI and the internet.

`collect(target, opts)` returns the same Snapshot structure a snapshot file holds, so the
checks run unchanged on live facts and on files. Heavy imports (kubernetes, oci, httpx) happen
inside `collect`, never at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from okedoctor.live.collector import CollectResult
    from okedoctor.model import Target
    from okedoctor.options import LiveOptions


def collect(target: Target, opts: LiveOptions, **kwargs) -> CollectResult:
    from okedoctor.live.collector import collect as _collect

    return _collect(target, opts, **kwargs)


def collect_fleet(namespace: str | None, opts: LiveOptions, **kwargs):
    """Every exposed Service of one namespace (None: the context's) or of all, in one shared pass."""
    from okedoctor.live.collector import collect_fleet as _collect_fleet

    return _collect_fleet(namespace, opts, **kwargs)


__all__ = ["collect", "collect_fleet"]

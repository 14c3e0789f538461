"""Read and write snapshot / scenario files (okedoctor/v1, see docs/snapshot-format.md).

A snapshot holds API objects exactly as the APIs return them; this module checks only the
envelope and never rewrites the objects, so a file round-trips unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from okedoctor.docfile import parse_text, read_text
from okedoctor.errors import UsageError
from okedoctor.oci_catalog import SECTION_KINDS
from okedoctor.overlay import expand, is_overlay

API_VERSION = "okedoctor/v1"
KINDS = ("Snapshot", "Scenario")
OCI_SECTIONS = SECTION_KINDS  # the catalogue says what each `oci:` section holds


@dataclass
class Snapshot:
    """One diagnosis' worth of facts, as stored in a snapshot file."""

    metadata: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    kubernetes: list[dict[str, Any]] = field(default_factory=list)
    oci: dict[str, Any] | None = None
    live: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] | None = None
    kind: str = "Snapshot"
    # What the collector could not read, by fact name: {"oci": {"kind": "denied", "reason": ...}}.
    # An okedoctor extension of the v1 format; absent in hand-written scenarios.
    collection: dict[str, Any] = field(default_factory=dict)
    # Top-level keys we do not know, kept so that a file round-trips.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"apiVersion": API_VERSION, "kind": self.kind, "metadata": self.metadata}
        out["context"] = self.context
        out["target"] = self.target
        out["kubernetes"] = self.kubernetes
        if self.oci is not None:
            out["oci"] = self.oci
        if self.live:
            out["live"] = self.live
        if self.collection:
            out["collection"] = self.collection
        if self.expect is not None and self.kind == "Scenario":
            out["expect"] = self.expect
        out.update(self.extra)
        return out


_KNOWN_KEYS = {
    "apiVersion", "kind", "metadata", "context", "target", "kubernetes", "oci", "live", "expect", "collection",
}


def load_snapshot(path: str | Path) -> Snapshot:
    """Load a snapshot or scenario file; raise UsageError with a one-line reason when it is bad."""
    p = Path(path)
    return parse_snapshot(read_text(p), source=str(p), base_dir=p.parent)


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def parse_snapshot(text: str, source: str = "<snapshot>", base_dir: Path | None = None) -> Snapshot:
    try:
        doc = parse_text(text, source)
    except UsageError:
        _refuse_manifest(_first_document(text), source)  # kubectl get -o yaml of several objects: '---'
        raise
    return snapshot_from_dict(doc, source, base_dir)


def _first_document(text: str) -> Any:
    try:
        return next(iter(yaml.safe_load_all(text)), None)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):  # what parse_text refused already
        return None


def _refuse_manifest(doc: Any, source: str) -> None:
    """A Kubernetes manifest given to --from: say what it is and how to get a snapshot."""
    if not isinstance(doc, dict) or str(doc.get("apiVersion", "")).startswith("okedoctor/"):
        return
    if doc.get("kind") and (doc.get("metadata") or doc.get("kind") == "List"):
        name = (doc.get("metadata") or {}).get("name") or "NAME"
        target = f"svc/{name}" if doc.get("kind") == "Service" else "svc/NAME"
        raise UsageError(
            f"{source}: this is not a snapshot but a Kubernetes manifest (kind {doc['kind']}); --from reads the "
            f"facts of a diagnosis: write them with `okedoctor snapshot {target} -f incident.yaml` against the "
            f"cluster, or diagnose it live with `okedoctor diagnose {target}`")


def snapshot_from_dict(doc: Any, source: str = "<snapshot>", base_dir: Path | None = None) -> Snapshot:
    """A Snapshot from a parsed document; a scenario overlay (`base: ...`) is expanded first
    (okedoctor/overlay.py), relative base paths from `base_dir`."""
    if is_overlay(doc):
        doc = expand(doc, source, base_dir)
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: not a snapshot: expected a mapping with apiVersion: {API_VERSION}")
    _refuse_manifest(doc, source)
    api_version = doc.get("apiVersion")
    if api_version != API_VERSION:
        raise UsageError(
            f"{source}: unknown apiVersion {api_version!r}; this okedoctor reads {API_VERSION}"
        )
    kind = doc.get("kind", "Snapshot")
    if kind not in KINDS:
        raise UsageError(f"{source}: unknown kind {kind!r}; expected Snapshot or Scenario")
    kube = doc.get("kubernetes") or []
    if not isinstance(kube, list):
        raise UsageError(f"{source}: 'kubernetes' must be a list of API objects")
    for i, obj in enumerate(kube):
        _check_object(obj, f"{source}: kubernetes[{i}]")
    oci = doc.get("oci")
    if oci is not None:
        _check_oci(oci, source)
    for key in ("metadata", "context", "target", "live", "collection"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise UsageError(f"{source}: '{key}' must be a mapping")
    _check_scalars(doc.get("target") or {}, ("namespace", "service", "lbOcid"), f"{source}: target")
    _check_scalars(doc.get("context") or {}, ("kubeContext", "cluster", "region"), f"{source}: context")
    for fact, entry in (doc.get("collection") or {}).items():
        if not isinstance(entry, dict):
            raise UsageError(f"{source}: collection.{str(fact)[:40]} must be a mapping (kind, reason)")
        _check_scalars(entry, ("kind", "reason"), f"{source}: collection.{str(fact)[:40]}")
    return Snapshot(
        metadata=doc.get("metadata") or {},
        context=doc.get("context") or {},
        target=doc.get("target") or {},
        kubernetes=kube,
        oci=oci,
        live=doc.get("live") or {},
        expect=doc.get("expect"),
        kind=kind,
        collection=doc.get("collection") or {},
        extra={k: v for k, v in doc.items() if k not in _KNOWN_KEYS},
    )


def _check_object(obj: Any, where: str) -> None:
    """An API object whose identity (what Facts indexes it by) is made of strings.

    Only the identity and the maps every lookup walks are checked: the rest of an object is the
    API's own, and a check that finds a field of an unexpected type is reported as failed.
    """
    if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
        raise UsageError(f"{where} is not an API object with apiVersion and kind")
    if not isinstance(obj["kind"], str) or not isinstance(obj["apiVersion"], str):
        raise UsageError(f"{where}: apiVersion and kind must be strings")
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise UsageError(f"{where} ({obj['kind'][:40]}) has no metadata.name")
    _check_scalars(meta, ("name", "namespace", "uid"), f"{where}.metadata")
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
            raise UsageError(f"{where}.metadata.{key} must map strings to strings")
    for key in ("spec", "status"):
        if obj.get(key) is not None and not isinstance(obj[key], dict):
            raise UsageError(f"{where}.{key} must be a mapping")
    owners = meta.get("ownerReferences")
    if owners is not None and not (isinstance(owners, list) and all(isinstance(o, dict) for o in owners)):
        raise UsageError(f"{where}.metadata.ownerReferences must be a list of mappings")
    if obj["kind"] == "Node":
        addresses = (obj.get("status") or {}).get("addresses")
        if addresses is not None and not (isinstance(addresses, list) and all(
                isinstance(a, dict) and isinstance(a.get("address", ""), str) for a in addresses)):
            raise UsageError(f"{where}.status.addresses must be a list of mappings with a string address")


def _check_scalars(mapping: dict[str, Any], keys: Iterable[str], where: str) -> None:
    for key in keys:
        value = mapping.get(key)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise UsageError(f"{where}.{str(key)[:40]} must be a scalar, not a {type(value).__name__}")
        if isinstance(value, int | float) and key in ("name", "namespace", "service", "kind", "reason"):
            raise UsageError(f"{where}.{key} must be a string")


def _check_oci(oci: Any, source: str) -> None:
    if not isinstance(oci, dict):
        raise UsageError(f"{source}: 'oci' must be a mapping of resource lists")
    for name, value in oci.items():
        expected = OCI_SECTIONS.get(name)
        if expected and not isinstance(value, expected):
            raise UsageError(f"{source}: oci.{name} must be a {expected.__name__}")
        items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else ()
        for item in items:
            if expected is list and not isinstance(item, dict):
                raise UsageError(f"{source}: oci.{name} must list mappings (OCI resources)")
            if isinstance(item, dict) and not isinstance(item.get("id", ""), str):
                raise UsageError(f"{source}: oci.{name}: a resource's id must be a string")


def dump_snapshot(snap: Snapshot, path: str | Path) -> None:
    """Write YAML (or JSON when the name ends in .json)."""
    p = Path(path)
    data = snap.to_dict()
    if p.suffix == ".json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    else:
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    p.write_text(text, encoding="utf-8")

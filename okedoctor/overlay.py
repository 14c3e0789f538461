"""Scenario overlays: a file that says `base: NAME` is a small patch on a base cluster.

The shipped scenarios share most of their objects (the same healthy cluster, with one thing
broken). An overlay names its base and says only what differs; `expand` turns it into the full
snapshot document, which is then read exactly like any other file. The format of the expanded
document is the unchanged okedoctor/v1 snapshot format (docs/snapshot-format.md, "Scenario
overlays", describes the patch form):

- `metadata`, `context`, `target`, `live`, `collection`, `expect` and any other top-level key:
  a JSON merge patch (RFC 7386) onto the base's value: mappings merge, `null` deletes a key,
  any other value (a list too) replaces.
- `kubernetes`: a list of edits, applied in order, to the base's objects, each addressed by
  kind, namespace and name: `patch` (a partial object, merged per RFC 7386), `replace` (a
  whole object), `add` (a new object; appended, or placed by `after` / `before` and a reference),
  `delete` (a reference `{kind, namespace, name}`).
- `oci`: per section. A list section (networkLoadBalancers, subnets, ...) takes the same edits,
  bodies addressed by `id`; a map section (backendHealth, ...) is merge-patched; `null` removes
  a section, and `oci: null` the whole of it.

A base is a shipped one (okedoctor/scenarios/bases/NAME.yaml) or, when the value is a path, a
file relative to the overlay. A base may itself be an overlay.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from okedoctor.docfile import read_document
from okedoctor.errors import UsageError
from okedoctor.oci_catalog import ETAGS, etag_of

API_VERSION = "okedoctor/v1"
BASES_DIR = Path(__file__).resolve().parent / "scenarios" / "bases"
KUBE_OPS = ("patch", "replace", "add", "delete")
# Parsed bases by (path, mtime, size): a test run expands ~60 scenarios on a handful of bases.
_BASE_CACHE: dict[tuple[str, int, int], dict[str, Any]] = {}


def is_overlay(doc: Any) -> bool:
    return isinstance(doc, dict) and "base" in doc


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch. Returns the patched value; `target` is not modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def expand(doc: dict[str, Any], source: str = "<snapshot>", base_dir: Path | None = None,
           _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The full snapshot document an overlay stands for; a document without `base` unchanged.

    Raises UsageError (one line, exit 64) for an unknown base, a malformed edit, or an edit
    that addresses an object the base does not hold.
    """
    if not is_overlay(doc):
        return doc
    if doc.get("apiVersion") != API_VERSION:  # an overlay says what it is, as any snapshot file
        raise UsageError(f"{source}: unknown apiVersion {doc.get('apiVersion')!r}; this okedoctor reads {API_VERSION}")
    base_path = resolve_base(doc["base"], source, base_dir)
    if str(base_path) in _seen:
        raise UsageError(f"{source}: base {doc['base']!r} includes itself")
    result = load_base(base_path, source, _seen + (str(base_path),))
    for key, value in doc.items():
        if key == "base":
            continue
        where = f"{source}: {key}"
        if key == "kubernetes":
            result["kubernetes"] = _edit_list(result.get("kubernetes") or [], value, where, _kube_address)
        elif key == "oci" and value is not None:
            result["oci"] = _edit_oci(result.get("oci"), value, where)
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge_patch(result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    _record_etags(result)
    return result


def _record_etags(doc: dict[str, Any]) -> None:
    """The ETag of each security list, as a live read of the simulator serving this file records it."""
    oci = doc.get("oci")
    if not isinstance(oci, dict) or not isinstance(oci.get("securityLists"), list):
        return
    etags = oci.setdefault(ETAGS, {})
    if isinstance(etags, dict):  # recomputed at each level: an overlay may have edited a list of its base
        for sl in oci["securityLists"]:
            if isinstance(sl, dict) and sl.get("id"):
                etags[sl["id"]] = etag_of(sl)


def resolve_base(name: Any, source: str, base_dir: Path | None) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"{source}: 'base' must name a base cluster, e.g. base: nlb-cluster")
    if "/" in name or name.endswith((".yaml", ".yml", ".json")):
        here = base_dir if base_dir is not None else _source_dir(source)
        path = Path(name) if Path(name).is_absolute() or here is None else here / name
        if not path.is_file():
            raise UsageError(f"{source}: base file not found: {path}")
        return path
    path = BASES_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(shipped_bases()) or "none"
        raise UsageError(f"{source}: unknown base {name!r}; the shipped bases are: {known}")
    return path


def shipped_bases() -> list[str]:
    return sorted(p.stem for p in BASES_DIR.glob("*.yaml"))


def _source_dir(source: str) -> Path | None:
    p = Path(source)
    return p.parent if p.is_file() else None


def load_base(path: Path, source: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The expanded document of a base file (a fresh copy the caller may change)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    cached = _BASE_CACHE.get(key)
    if cached is None:
        try:
            doc = read_document(path)
        except UsageError as exc:
            raise UsageError(f"{source}: base {exc}") from None
        if not isinstance(doc, dict):
            raise UsageError(f"{source}: base {path} is not a snapshot mapping")
        cached = expand(doc, str(path), path.parent, seen)
        _BASE_CACHE[key] = cached
    return copy.deepcopy(cached)


# ---- lists of objects addressed by key ----------------------------------------------------------

def _kube_address(obj: Any, reference: bool = False) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of an object, or with `reference` of a {kind, namespace, name}."""
    if not isinstance(obj, dict):
        return None
    meta = obj if reference else obj.get("metadata")
    if not isinstance(meta, dict) or not obj.get("kind") or not meta.get("name"):
        return None
    return (str(obj["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))


def _kube_label(addr: tuple[str, ...]) -> str:
    kind, ns, name = addr
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def _oci_address(obj: Any, reference: bool = False) -> tuple[str] | None:
    if isinstance(obj, dict) and obj.get("id"):
        return (str(obj["id"]),)
    return None


def _edit_list(items: list[Any], edits: Any, where: str, address) -> list[Any]:
    if not isinstance(edits, list):
        raise UsageError(f"{where}: in an overlay this is a list of edits (patch, replace, add, delete)")
    label = _kube_label if address is _kube_address else (lambda a: a[0])
    noun = "kind and metadata (name, namespace)" if address is _kube_address else "id"
    ref_noun = "{kind, namespace, name}" if address is _kube_address else "id"
    out = list(items)

    def find(addr, i: int, op: str) -> int:
        hits = [n for n, obj in enumerate(out) if address(obj) == addr]
        if not hits:
            raise UsageError(f"{where}[{i}]: {op}: the base holds no {label(addr)}")
        return hits[0]

    for i, edit in enumerate(edits):
        ops = [op for op in KUBE_OPS if isinstance(edit, dict) and op in edit]
        places = [k for k in ("after", "before") if isinstance(edit, dict) and k in edit]
        extra = set(edit) - set(KUBE_OPS) - set(places) if isinstance(edit, dict) else set()
        if len(ops) != 1 or extra or len(places) > 1 or (places and ops != ["add"]):
            raise UsageError(f"{where}[{i}]: an edit is one of {', '.join(KUBE_OPS)} (add may say after or before)")
        op = ops[0]
        body = edit[op]
        addr = address(body, reference=op == "delete")
        if addr is None:
            which = ref_noun if op == "delete" else noun
            raise UsageError(f"{where}[{i}]: {op}: cannot tell which object: give its {which}")
        if op == "add":
            if any(address(obj) == addr for obj in out):
                raise UsageError(f"{where}[{i}]: add: the base already holds {label(addr)}; use patch or replace")
            if places:
                place = places[0]
                anchor = address(edit[place], reference=True)
                if anchor is None:
                    raise UsageError(f"{where}[{i}]: add: {place}: give the {ref_noun} of an object")
                out.insert(find(anchor, i, place) + (place == "after"), copy.deepcopy(body))
            else:
                out.append(copy.deepcopy(body))
            continue
        n = find(addr, i, op)
        if op == "delete":
            del out[n]
        elif op == "replace":
            out[n] = copy.deepcopy(body)
        else:
            out[n] = merge_patch(out[n], body)
    return out


def _edit_oci(base: Any, edits: Any, where: str) -> dict[str, Any]:
    if not isinstance(edits, dict):
        raise UsageError(f"{where}: in an overlay this is a mapping of sections")
    out = dict(base) if isinstance(base, dict) else {}
    for section, value in edits.items():
        current = out.get(section)
        if value is None:
            out.pop(section, None)
        elif isinstance(value, list):
            if current is not None and not isinstance(current, list):
                raise UsageError(f"{where}.{section}: the base's section is a mapping; merge-patch it")
            out[section] = _edit_list(current or [], value, f"{where}.{section}", _oci_address)
        elif isinstance(value, dict):
            if current is not None and not isinstance(current, dict):
                raise UsageError(f"{where}.{section}: the base's section is a list; give a list of edits")
            out[section] = merge_patch(current or {}, value)
        else:
            raise UsageError(f"{where}.{section}: expected a list of edits or a mapping to merge")
    return out


# ---- whole files --------------------------------------------------------------------------------

SCENARIOS_DIR = BASES_DIR.parent


def scenario_path(name_or_file: str) -> Path:
    """A shipped scenario (or base) by name, else a file path."""
    p = Path(name_or_file)
    if p.is_file():
        return p
    for candidate in (SCENARIOS_DIR / f"{name_or_file}.yaml", BASES_DIR / f"{name_or_file}.yaml"):
        if "/" not in name_or_file and candidate.is_file():
            return candidate
    raise UsageError(f"no file and no shipped scenario named {name_or_file!r} (okedoctor demo --list names them)")


def load_document(path: str | Path) -> dict[str, Any]:
    """The full snapshot document a file stands for: the file itself, or its overlay expanded."""
    p = Path(path)
    return expand(read_document(p), str(p), p.parent)

"""PATCH of one object, as the API server applies it: JSON patch (RFC 6902), JSON merge patch
(RFC 7386), and strategic merge patch (lists with a merge key merged by it, as the built-in
kinds declare: containers by name, ports by port or containerPort, env by name...)."""

from __future__ import annotations

import copy
import json
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"

# field name -> merge key, for the lists of the built-in kinds a fix patches
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "imagePullSecrets": "name", "conditions": "type",
              "ports": None}  # Service ports by port, container ports by containerPort


class PatchError(Exception):
    pass


def apply_patch(obj: dict[str, Any], body: bytes, content_type: str) -> dict[str, Any]:
    try:
        patch = json.loads(body or b"null")
    except ValueError:
        raise PatchError("the patch is not valid JSON") from None
    kind = content_type.split(";")[0].strip()
    if kind == JSON_PATCH:
        return _json_patch(copy.deepcopy(obj), patch)
    if kind == MERGE_PATCH:
        return _merge(copy.deepcopy(obj), patch, strategic=False)
    if kind == STRATEGIC:
        return _merge(copy.deepcopy(obj), patch, strategic=True)
    raise PatchError(f"the patch type {kind!r} is not supported")


def _json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("a JSON patch is a list of operations")
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
        if not parts:
            raise PatchError(f"invalid path {op.get('path')!r}")
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.get(part)
            if parent is None:
                raise PatchError(f"path {op.get('path')!r} does not exist")
        last = parts[-1]
        kind = op.get("op")
        if kind in ("replace", "add"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(index, op.get("value"))
                else:
                    parent[index] = op.get("value")
            else:
                if kind == "replace" and last not in parent:
                    raise PatchError(f"path {op.get('path')!r} does not exist")
                parent[last] = op.get("value")
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            elif parent.pop(last, None) is None:
                raise PatchError(f"path {op.get('path')!r} does not exist")
        else:
            raise PatchError(f"unsupported operation {kind!r}")
    return doc


def _merge(target: Any, patch: Any, *, strategic: bool, key: str = "") -> Any:
    if isinstance(patch, dict) and isinstance(target, dict):
        for k, v in patch.items():
            if k.startswith("$"):
                continue  # strategic directives ($patch, $retainKeys...): not needed by any fix
            if v is None:
                target.pop(k, None)
            else:
                target[k] = _merge(target.get(k), v, strategic=strategic, key=k)
        return target
    if strategic and isinstance(patch, list) and isinstance(target, list) and key in MERGE_KEYS:
        return _merge_list(target, patch, MERGE_KEYS[key])
    return copy.deepcopy(patch)


def _merge_list(target: list[Any], patch: list[Any], merge_key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        if merge_key:
            return item.get(merge_key)
        return item.get("containerPort", item.get("port"))

    out = [copy.deepcopy(t) for t in target]
    for item in patch:
        hit = next((o for o in out if ident(o) == ident(item)), None)
        if hit is not None and isinstance(item, dict):
            _merge(hit, item, strategic=True)
        else:
            out.append(copy.deepcopy(item))
    return out

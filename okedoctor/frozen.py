"""Read-only dicts and lists: the collected facts, as every check sees them.

Checks share one collection. A check that changed a pod or a rule (a plugin's "normalise this
first", or a slip) would change what every later check concludes, so the data is frozen when
Facts is built. The frozen types are dict and list subclasses, so reading code (`.get`, `[...]`,
iteration, `json.dumps`, `==`, `dict(x)`, `list + list`) works unchanged; only mutation raises.
A copy (`copy.copy`, `copy.deepcopy`, `dict(x)`, `list(x)`) is an ordinary mutable object.
Python cannot stop code that sets out to defeat this (`dict.__setitem__(x, ...)`): it stops the
accident, not the attack.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any, NoReturn


class ReadOnlyError(TypeError):
    """A check tried to change the shared facts."""


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise ReadOnlyError("the facts are read-only: copy them (copy.deepcopy) before changing them")


class FrozenDict(dict):
    __slots__ = ()
    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = __ior__ = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self):  # pickles (and copies by protocol) as a plain dict
        return (dict, (dict(self),))


class FrozenList(list):
    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self):
        return (list, (list(self),))


def freeze(value: Any) -> Any:
    """A read-only deep copy of JSON-like data; already-frozen parts are shared, not copied."""
    cls = type(value)
    if cls is dict:
        # Copied whole in C, then only the nested containers replaced: scalars, most of the
        # values (a fleet snapshot has millions), cost no Python-level store.
        out = FrozenDict(value)
        for k, v in value.items():
            if type(v) in _MUTABLE:
                dict.__setitem__(out, k, freeze(v))
        return out
    if cls is list:
        return FrozenList([freeze(v) if type(v) in _MUTABLE else v for v in value])
    if cls in (FrozenDict, FrozenList) or cls in _SCALARS:
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([freeze(v) for v in value])
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    return value


_MUTABLE = frozenset({dict, list, tuple, set})
_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze_in_place(value: Any) -> None:
    """Freeze each element of a plain list (each value of a plain dict) where it stands.

    `freeze(value)` builds the whole read-only copy while the original is still alive; element
    by element, each original can be freed as soon as its copy is made, so a large collection
    (a fleet's pods) is never held twice. Anything else is left alone."""
    if type(value) is list:
        for i, v in enumerate(value):
            if type(v) in _MUTABLE:
                list.__setitem__(value, i, freeze(v))
    elif type(value) is dict:
        for k, v in value.items():
            if type(v) in _MUTABLE:
                value[k] = freeze(v)


def loads(data: bytes | str) -> Any:
    """JSON decoded straight into the read-only types, as `freeze(json.loads(data))` but without
    the mutable copy: a fleet's LB lists are tens of MB, and the decoded bodies and their frozen
    copy were both alive until the checks ended. `freeze` shares what this returns as it is.

    The strings of the objects' values (OCIDs, addresses, states), which the lists repeat once per
    LB, per node or per backend, are interned: one object each, however many bodies name them.
    """
    value = _DECODER.decode(data.decode("utf-8") if isinstance(data, bytes | bytearray) else data)
    return freeze(value) if type(value) is list else value


def _frozen_object(obj: dict) -> FrozenDict:
    """The decoder's hook, called innermost first: the objects within are already frozen."""
    for k, v in obj.items():
        t = type(v)
        if t is str:
            obj[k] = _intern(v)
        elif t is list:
            obj[k] = freeze(v)
    return FrozenDict(obj)


_intern = sys.intern
_DECODER = json.JSONDecoder(object_hook=_frozen_object)


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for YAML writers that know only the exact types)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value

"""JSON rendering of the chain node's result objects in the Beacon API's encoding.

The node's query results are frozen dataclasses whose field names are the API's (by design of
`nektar.beacon.chain.interface`), so one generic walk renders them all: SSZ values through the
codec, integers quoted, bytes as 0x-hex, enums by value, nested dataclasses as objects.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Any

from remerkleable.core import View

from nektar.beacon.json_codec import encode


def render(value: Any, exclude: Iterable[str] = ()) -> Any:
    """The API JSON of a node result (dataclass, SSZ view, list, int, bytes, …); `exclude`
    drops bookkeeping fields (e.g. `ref`, `finalized`) of the top-level dataclass(es)."""
    kind = type(value)
    if kind is int:  # the common cases first: this walk renders thousands of duty rows
        return str(value)
    if kind is bytes:
        return "0x" + value.hex()
    if kind is str or kind is bool or value is None:
        return value
    if kind in _FIELDS or dataclasses.is_dataclass(kind):
        names = _FIELDS.get(kind) or _FIELDS.setdefault(
            kind, tuple(f.name for f in dataclasses.fields(kind))
        )
        skip = set(exclude)
        out = {}
        for name in names:
            if name in skip:
                continue
            field = getattr(value, name)
            kind = type(field)  # inlined common cases: thousands of duty rows per response
            if kind is int:
                out[name] = str(field)
            elif kind is bytes:
                out[name] = "0x" + field.hex()
            else:
                out[name] = render(field)
        return out
    if kind is list or kind is tuple:
        return [render(item, exclude) for item in value]
    if issubclass(kind, View):  # (isinstance on the View protocol costs ~60 µs)
        return encode(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    raise TypeError(f"cannot render {kind.__name__} as Beacon API JSON")


_FIELDS: dict[type, tuple[str, ...]] = {}

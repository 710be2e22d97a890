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
    if isinstance(value, View):
        return encode(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        skip = set(exclude)
        return {
            f.name: render(getattr(value, f.name), ())
            for f in dataclasses.fields(value)
            if f.name not in skip
        }
    if isinstance(value, list | tuple):
        return [render(item, exclude) for item in value]
    raise TypeError(f"cannot render {type(value).__name__} as Beacon API JSON")

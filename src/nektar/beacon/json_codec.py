"""The Beacon API's JSON encoding of SSZ values, generic over remerkleable types.

The beacon-APIs specification encodes every SSZ value the same way, whatever the container:
unsigned integers are quoted decimal strings, byte vectors/lists are 0x-prefixed hex, bitlists
and bitvectors are the 0x-hex of their SSZ serialization, booleans are JSON booleans, lists and
vectors of other types are JSON arrays and containers are objects keyed by their snake_case
field names. Walking the remerkleable type keeps one codec for every container (no per-type
hand-written serializers that could drift from the SSZ definition).

Decoding is strict about types and lengths (a uint64 must be a decimal string in range, a
Bytes32 exactly 32 bytes) and tolerant of extra object fields, as real beacon nodes add fields
without bumping an endpoint's version. Every failure is a `CodecError` naming the JSON path.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, TypeVar

from remerkleable.basic import boolean, uint, uint256
from remerkleable.bitfields import Bitlist, Bitvector
from remerkleable.byte_arrays import ByteList, ByteVector
from remerkleable.complex import Container, List, Vector
from remerkleable.core import View
from remerkleable.tree import PairNode, subtree_fill_to_contents

V = TypeVar("V", bound=View)

_DECIMAL = re.compile(r"[0-9]{1,78}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


class CodecError(ValueError):
    """A JSON value does not encode the expected SSZ type; the message names the JSON path."""


def encode_uint(value: int) -> str:
    """A quoted decimal integer, the API's encoding of every uintN."""
    return str(int(value))


def decode_uint(value: Any, bits: int = 64, path: str = "$") -> int:
    """Parse a quoted decimal uintN; bools, JSON numbers, signs and overflow are errors."""
    fast = bits >= 64 and type(value) is str and 0 < len(value) <= 19
    if fast and value.isascii() and value.isdigit():
        return int(value)  # 19 digits fit any uint64 (and wider): skip the regex
    if not isinstance(value, str):
        raise CodecError(f"{path}: expected a quoted decimal integer, got {_show(value)}")
    if not _DECIMAL.fullmatch(value):
        raise CodecError(f"{path}: {_show(value)} is not a decimal unsigned integer")
    number = int(value)
    if number >= 1 << bits:
        raise CodecError(f"{path}: {value} does not fit in uint{bits}")
    return number


def encode_hex(data: bytes) -> str:
    """0x-prefixed lowercase hex."""
    return "0x" + bytes(data).hex()


def decode_hex(value: Any, length: int | None = None, path: str = "$") -> bytes:
    """Parse 0x-prefixed hex (any case); `length` demands an exact byte count."""
    if not isinstance(value, str):
        raise CodecError(f"{path}: expected a 0x-prefixed hex string, got {_show(value)}")
    if not _HEX.fullmatch(value):
        raise CodecError(f"{path}: {_show(value)} is not 0x-prefixed hex with whole bytes")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise CodecError(f"{path}: expected {length} bytes, got {len(data)}")
    return data


def encode(value: View) -> Any:
    """The API JSON form (str / bool / list / dict) of any remerkleable value."""
    kind = _kind(type(value))
    if kind == "boolean":
        return bool(value)
    if kind == "uint":
        return str(int(value))
    if kind in ("bytevector", "bytelist"):
        return "0x" + bytes(value).hex()
    if kind == "bits":
        return "0x" + value.encode_bytes().hex()
    if kind == "container":
        backing = value.get_backing()
        return {
            name: encode(field_type.view_from_backing(backing.getter(gindex)))
            for name, field_type, gindex in _layout(type(value))
        }
    if kind in ("list", "vector"):
        return [encode(item) for item in value]
    raise CodecError(f"no Beacon API JSON encoding for {type(value).type_repr()}")


def decode(typ: type[V], data: Any, path: str = "$") -> V:
    """Build a value of SSZ type `typ` from its API JSON form; `CodecError` on any mismatch."""
    kind = _kind(typ)
    if kind == "boolean":
        if not isinstance(data, bool):
            raise CodecError(f"{path}: expected a JSON boolean, got {_show(data)}")
        return typ(data)
    if kind == "uint":
        return typ(decode_uint(data, typ.type_byte_length() * 8, path))
    if kind == "bytevector":
        return typ(decode_hex(data, typ.type_byte_length(), path))
    if kind == "bytelist":
        raw = decode_hex(data, None, path)
        if len(raw) > typ.limit():
            raise CodecError(f"{path}: {len(raw)} bytes exceed the limit of {typ.limit()}")
        return typ(raw)
    if kind == "bits":
        return decode_ssz(typ, decode_hex(data, None, path), path)
    if kind == "container":
        return _decode_container(typ, data, path)
    if kind in ("list", "vector"):
        return _decode_sequence(typ, data, path, kind == "list")
    raise CodecError(f"{path}: no Beacon API JSON decoding for {typ.type_repr()}")


@cache
def _kind(typ: type[View]) -> str:
    """The codec's category of an SSZ type, computed once per type: `issubclass` against
    remerkleable's classes goes through the `typing.Protocol` machinery and costs tens of
    microseconds, which made decoding a SingleAttestation take ~0.9 ms."""
    for kind, bases in _KINDS:
        if issubclass(typ, bases):
            return kind
    return "unknown"


@cache
def _layout(typ: type[Container]) -> tuple[tuple[str, type[View], int], ...]:
    """(name, type, generalized tree index) of each field: remerkleable recomputes `fields()`
    (a fresh dict walk over the class hierarchy) on every attribute read."""
    depth = typ.tree_depth()
    return tuple(
        (name, field_type, (1 << depth) | i)
        for i, (name, field_type) in enumerate(typ.fields().items())
    )


_KINDS: tuple[tuple[str, Any], ...] = (
    ("boolean", boolean),
    ("uint", uint),
    ("bytevector", ByteVector),
    ("bytelist", ByteList),
    ("bits", Bitlist | Bitvector),
    ("container", Container),
    ("list", List),
    ("vector", Vector),
)


def _decode_container(typ: type[V], data: Any, path: str) -> V:
    if not isinstance(data, dict):
        raise CodecError(f"{path}: expected a JSON object for {typ.type_repr()}, got {_show(data)}")
    nodes = []
    for name, field_type, _ in _layout(typ):
        if name not in data:
            raise CodecError(f"{path}: missing field '{name}' of {typ.type_repr()}")
        nodes.append(decode(field_type, data[name], f"{path}.{name}").get_backing())
    # Assembled from the fields' backing nodes: the keyword constructor runs an
    # isinstance(View) Protocol check per field (~0.1 ms each on Python 3.11).
    return typ.view_from_backing(subtree_fill_to_contents(nodes, typ.tree_depth()))


def _decode_sequence(typ: type[V], data: Any, path: str, is_list: bool) -> V:
    if not isinstance(data, list):
        raise CodecError(f"{path}: expected a JSON array, got {_show(data)}")
    if is_list and len(data) > typ.limit():
        raise CodecError(f"{path}: {len(data)} items exceed the limit of {typ.limit()}")
    if not is_list and len(data) != typ.vector_length():
        raise CodecError(f"{path}: expected {typ.vector_length()} items, got {len(data)}")
    element = typ.element_cls()
    items = [decode(element, item, f"{path}[{i}]") for i, item in enumerate(data)]
    if typ.is_packed():  # basic values share chunks: let remerkleable pack them
        return typ(*items)
    nodes = [item.get_backing() for item in items]
    if not is_list:
        return typ.view_from_backing(subtree_fill_to_contents(nodes, typ.tree_depth()))
    contents = subtree_fill_to_contents(nodes, typ.contents_depth())
    return typ.view_from_backing(PairNode(contents, uint256(len(nodes)).get_backing()))


def encode_ssz(value: View) -> bytes:
    """SSZ serialization (the `application/octet-stream` body of the API)."""
    return value.encode_bytes()


def decode_ssz(typ: type[V], data: bytes, path: str = "$") -> V:
    """SSZ deserialization with a `CodecError` for malformed bytes (remerkleable raises
    assorted exception types, which callers should not have to know)."""
    if typ.is_fixed_byte_length() and len(data) != typ.type_byte_length():
        raise CodecError(
            f"{path}: {typ.type_repr()} is {typ.type_byte_length()} bytes of SSZ, got {len(data)}"
        )
    try:
        return typ.decode_bytes(bytes(data))
    except Exception as exc:  # remerkleable's errors are untyped (Exception, ValueError, …)
        raise CodecError(f"{path}: malformed SSZ for {typ.type_repr()}: {exc}") from exc


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

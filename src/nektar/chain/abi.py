"""Contract ABIs: encode calls, decode results, events and revert data with eth-abi.

Both backends share this module, so a call is encoded and a log decoded identically whether
the EVM runs in-process or behind JSON-RPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from nektar.chain.errors import AbiError


def canonical_type(param: Mapping[str, Any]) -> str:
    """The ABI type string of a parameter, expanding tuples to `(t1,t2,…)` as selectors need."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(component) for component in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True)
class Function:
    """One ABI function entry (each overload is its own entry)."""

    name: str
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def encode_call(self, args: Sequence[Any]) -> bytes:
        return self.selector + encode_arguments(self.input_types, args, self.signature)

    def decode_result(self, data: bytes) -> Any:
        """One output → the value; several → a tuple; none → None."""
        values = decode_values(self.output_types, data, f"result of {self.signature}")
        if not values:
            return None
        return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class EventAbi:
    """One ABI event entry, able to decode its logs."""

    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]

    @property
    def topic(self) -> bytes:
        return keccak(text=f"{self.name}({','.join(self.types)})")

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Arguments by name. An indexed dynamic value is only its hash in the log: kept as such."""
        plain = [t for t, ix in zip(self.types, self.indexed, strict=True) if not ix]
        values = iter(decode_values(tuple(plain), data, f"event {self.name}"))
        indexed_topics = iter(topics[1:])
        args: dict[str, Any] = {}
        for name, kind, is_indexed in zip(self.names, self.types, self.indexed, strict=True):
            if not is_indexed:
                args[name] = next(values)
                continue
            topic = next(indexed_topics, None)
            if topic is None:
                raise AbiError(f"event {self.name}: missing topic for indexed {name}")
            dynamic = kind in ("bytes", "string") or kind.endswith("]") or kind.startswith("(")
            args[name] = topic if dynamic else decode_values((kind,), topic, self.name)[0]
        return args


class ContractAbi:
    """The functions, events and constructor of one contract ABI."""

    def __init__(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self.entries = list(entries)
        self.functions: dict[str, list[Function]] = {}
        self.events: dict[bytes, EventAbi] = {}
        self.constructor_types: tuple[str, ...] = ()
        for entry in entries:
            kind = entry.get("type")
            if kind == "function":
                fn = Function(
                    name=entry["name"],
                    input_types=tuple(canonical_type(p) for p in entry.get("inputs", [])),
                    output_types=tuple(canonical_type(p) for p in entry.get("outputs", [])),
                    mutability=entry.get("stateMutability", "nonpayable"),
                )
                self.functions.setdefault(fn.name, []).append(fn)
            elif kind == "event" and not entry.get("anonymous", False):
                inputs = entry.get("inputs", [])
                event = EventAbi(
                    name=entry["name"],
                    names=tuple(p["name"] for p in inputs),
                    types=tuple(canonical_type(p) for p in inputs),
                    indexed=tuple(bool(p.get("indexed")) for p in inputs),
                )
                self.events[event.topic] = event
            elif kind == "constructor":
                self.constructor_types = tuple(canonical_type(p) for p in entry.get("inputs", []))

    def function(self, name: str, arg_count: int) -> Function:
        """The overload of `name` taking `arg_count` arguments (Vyper default args overload)."""
        candidates = self.functions.get(name)
        if not candidates:
            raise AbiError(f"the contract has no function {name!r}")
        matching = [fn for fn in candidates if len(fn.input_types) == arg_count]
        if len(matching) != 1:
            arities = sorted(len(fn.input_types) for fn in candidates)
            raise AbiError(f"{name} takes {arities} arguments, not {arg_count}")
        return matching[0]

    def event_named(self, name: str) -> EventAbi:
        for event in self.events.values():
            if event.name == name:
                return event
        raise AbiError(f"the contract has no event {name!r}")

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        return encode_arguments(self.constructor_types, args, "constructor")


def to_abi_value(value: Any) -> Any:
    """Accept contracts and accounts where the ABI wants an address (anything with `.address`)."""
    address = getattr(value, "address", None)
    if isinstance(address, str):
        return address
    if isinstance(value, list | tuple):
        return type(value)(to_abi_value(v) for v in value)
    return value


def encode_arguments(types: Sequence[str], args: Sequence[Any], what: str) -> bytes:
    if len(types) != len(args):
        raise AbiError(f"{what} takes {len(types)} arguments, got {len(args)}")
    try:
        return abi_encode(list(types), [to_abi_value(a) for a in args])
    except Exception as exc:  # eth-abi raises several unrelated classes for bad values
        raise AbiError(f"{what}: arguments do not fit {list(types)}: {exc}") from exc


def decode_values(types: Sequence[str], data: bytes, what: str) -> tuple[Any, ...]:
    try:
        values = abi_decode(list(types), data)
    except Exception as exc:
        raise AbiError(f"cannot decode {what} as {list(types)}: {exc}") from exc
    return tuple(_normalise(v, t) for v, t in zip(values, types, strict=True))


def _normalise(value: Any, kind: str) -> Any:
    """Checksummed addresses everywhere, so both backends return identical values."""
    if kind == "address":
        return to_checksum_address(value)
    if kind == "address[]" or (kind.startswith("address[") and kind.endswith("]")):
        return tuple(to_checksum_address(v) for v in value)
    return value

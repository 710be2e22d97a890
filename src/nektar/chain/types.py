"""Plain records returned by both backends: raw logs, decoded events, receipts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nektar.chain.errors import ChainError


@dataclass(frozen=True)
class Log:
    """A log as the node stores it."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True)
class Event:
    """A log decoded with the ABI of the contract that emitted it."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: bytes
    log_index: int

    def __getitem__(self, name: str) -> Any:
        return self.args[name]


@dataclass(frozen=True)
class Receipt:
    """The outcome of a mined transaction. Reverted transactions raise instead."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...]
    events: tuple[Event, ...] = field(default=())

    def events_named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]

    def event(self, name: str) -> Event:
        """The single event called `name`; anything else is an error worth knowing about."""
        found = self.events_named(name)
        if len(found) != 1:
            raise ChainError(f"expected one {name} event in the receipt, found {len(found)}")
        return found[0]

"""Typed access to the beacon DepositContract (contracts/beacon/DepositContract.vy).

The devnet beacon chain reads deposits from `DepositEvent` logs; `DepositLog` gives them
with the little-endian fields already decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from nektar.chain.backend import Backend, EventWatcher
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.types import Event, Receipt

GWEI = 10**9
SOURCE = "beacon/DepositContract.vy"


@dataclass(frozen=True)
class DepositLog:
    """One deposit as the beacon chain consumes it (amount in gwei)."""

    pubkey: bytes
    withdrawal_credentials: bytes
    amount_gwei: int
    signature: bytes
    index: int
    block_number: int

    @classmethod
    def from_event(cls, event: Event) -> DepositLog:
        return cls(
            pubkey=event["pubkey"],
            withdrawal_credentials=event["withdrawal_credentials"],
            amount_gwei=int.from_bytes(event["amount"], "little"),
            signature=event["signature"],
            index=int.from_bytes(event["index"], "little"),
            block_number=event.block_number,
        )


class DepositContract:
    """The deposit contract on one backend."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address

    @classmethod
    def deploy(cls, backend: Backend, sender: LocalAccount | None = None) -> DepositContract:
        return cls(backend.deploy(compile_contract(SOURCE), sender=sender))

    @classmethod
    def at(cls, backend: Backend, address: str) -> DepositContract:
        return cls(backend.at(compile_contract(SOURCE), address))

    def deposit(
        self,
        sender: LocalAccount,
        pubkey: bytes,
        withdrawal_credentials: bytes,
        signature: bytes,
        deposit_data_root: bytes,
        amount_gwei: int,
    ) -> Receipt:
        return self.contract.transact(
            "deposit",
            pubkey,
            withdrawal_credentials,
            signature,
            deposit_data_root,
            sender=sender,
            value=amount_gwei * GWEI,
        )

    def deposit_root(self) -> bytes:
        return bytes(self.contract.call("get_deposit_root"))

    def deposit_count(self) -> int:
        return int.from_bytes(self.contract.call("get_deposit_count"), "little")

    def deposits(self, from_block: int = 0, to_block: int | None = None) -> list[DepositLog]:
        events = self.contract.events("DepositEvent", from_block, to_block)
        return [DepositLog.from_event(event) for event in events]

    def watch(self, from_block: int = 0) -> DepositWatcher:
        return DepositWatcher(self.contract.watch("DepositEvent", from_block))


class DepositWatcher:
    """New deposits since the last poll."""

    def __init__(self, watcher: EventWatcher) -> None:
        self.watcher = watcher

    def poll(self) -> list[DepositLog]:
        return [DepositLog.from_event(event) for event in self.watcher.poll()]

"""The backend interface: what every EVM the chain layer drives must provide.

A backend implements a handful of raw operations (submit a signed transaction, eth_call,
fetch logs, balances, clock). Everything users touch — deployment, decoded receipts and
events, watchers, funded accounts — is built here on top of them, once, so the in-process
EVM and a JSON-RPC node behave the same by construction.

Block model (both backends): every transaction is mined in its own block; a transaction
that would revert raises `TransactionReverted` and is not included; `increase_time(s)`
mines an empty block whose timestamp is the latest one plus `s`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from nektar.chain.abi import ContractAbi
from nektar.chain.accounts import dev_account
from nektar.chain.compiler import Artifact
from nektar.chain.contract import Contract
from nektar.chain.errors import AbiError, ChainError
from nektar.chain.types import Event, Log, Receipt

DEFAULT_CHAIN_ID = 31337
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE = 10**6 * 10**18


class Backend(ABC):
    """One EVM, in-process or remote, behind the same operations."""

    def __init__(self, chain_id: int, accounts: Sequence[LocalAccount]) -> None:
        self.chain_id = chain_id
        self.accounts: list[LocalAccount] = list(accounts)
        self._abis: dict[str, tuple[str, ContractAbi]] = {}
        self._created_accounts = 0

    # ---- raw operations, one implementation per backend ----

    @abstractmethod
    def _submit(
        self, sender: LocalAccount, to: str | None, data: bytes, value: int, action: str
    ) -> Receipt:
        """Sign, send and mine one transaction; return its receipt (events not yet decoded)."""

    @abstractmethod
    def call_raw(self, to: str, data: bytes, sender: str | None, value: int, action: str) -> bytes:
        """eth_call against the latest block; raises TransactionReverted."""

    @abstractmethod
    def raw_logs(
        self,
        addresses: Sequence[str] | None,
        topic0: Sequence[bytes] | None,
        from_block: int,
        to_block: int,
    ) -> list[Log]:
        """Logs in [from_block, to_block] from these addresses with one of these first topics."""

    @abstractmethod
    def balance_of(self, address: str) -> int:
        """Wei held by `address`."""

    @abstractmethod
    def set_balance(self, address: str, wei: int) -> None:
        """Set a balance out of thin air (devnets: faucets, beacon-chain withdrawals)."""

    @abstractmethod
    def block_number(self) -> int:
        """Number of the latest mined block."""

    @abstractmethod
    def timestamp(self) -> int:
        """Timestamp of the latest mined block."""

    @abstractmethod
    def increase_time(self, seconds: int) -> None:
        """Mine an empty block `seconds` after the latest one."""

    @abstractmethod
    def code_at(self, address: str) -> bytes:
        """Runtime code at `address` (empty for accounts)."""

    @abstractmethod
    def snapshot(self) -> Any:
        """Mark the current chain state (tests: isolate changes on a shared node)."""

    @abstractmethod
    def revert(self, snapshot: Any) -> None:
        """Return to a state marked by `snapshot()`, forgetting later blocks and logs."""

    # ---- the shared API ----

    def transact_raw(
        self, sender: LocalAccount, to: str | None, data: bytes, value: int, action: str
    ) -> Receipt:
        """Send one transaction and decode the events of the contracts this backend knows."""
        receipt = self._submit(sender, to, data, value, action)
        return replace(receipt, events=tuple(self.decode_logs(receipt.logs)))

    def send_eth(self, sender: LocalAccount, to: str | Any, value: int) -> Receipt:
        """A plain value transfer (to a contract: its `receive`/`__default__`)."""
        address = getattr(to, "address", to)
        return self.transact_raw(sender, address, b"", value, f"transfer to {address}")

    def deploy(
        self,
        artifact: Artifact,
        *args: Any,
        sender: LocalAccount | None = None,
        value: int = 0,
    ) -> Contract:
        """Deploy a compiled contract with constructor arguments; returns it bound here."""
        initcode = artifact.bytecode + artifact.abi.encode_constructor(args)
        receipt = self.transact_raw(
            sender or self.accounts[0], None, initcode, value, f"deploy {artifact.name}"
        )
        if receipt.contract_address is None:
            raise ChainError(f"deploying {artifact.name} created no contract")
        contract = self.at(artifact, receipt.contract_address)
        contract.deploy_receipt = receipt
        return contract

    def at(self, artifact: Artifact, address: str) -> Contract:
        """An existing contract of this kind; its events are decoded from now on."""
        address = to_checksum_address(address)
        self._abis[address.lower()] = (artifact.name, artifact.abi)
        return Contract(self, artifact.name, artifact.abi, address)

    def decode_logs(self, logs: Iterable[Log]) -> list[Event]:
        """Decode the logs of contracts this backend knows; others are skipped."""
        events = []
        for log in logs:
            known = self._abis.get(log.address.lower())
            if known is None or not log.topics:
                continue
            event_abi = known[1].events.get(log.topics[0])
            if event_abi is None:
                continue
            events.append(
                Event(
                    name=event_abi.name,
                    args=event_abi.decode(log.topics, log.data),
                    address=log.address,
                    block_number=log.block_number,
                    tx_hash=log.tx_hash,
                    log_index=log.log_index,
                )
            )
        return events

    def get_logs(
        self,
        address: str | None = None,
        event: str | None = None,
        from_block: int = 0,
        to_block: int | None = None,
    ) -> list[Event]:
        """Decoded events from one contract (or all known ones), optionally of one name."""
        latest = self.block_number() if to_block is None else to_block
        if from_block > latest:
            return []
        topic0 = None
        if event is not None:
            if address is None:
                raise AbiError("filtering by event name needs the contract's address")
            known = self._abis.get(address.lower())
            if known is None:
                raise AbiError(f"no ABI known for {address}")
            topic0 = [known[1].event_named(event).topic]
        addresses = [address] if address is not None else None
        return self.decode_logs(self.raw_logs(addresses, topic0, from_block, latest))

    def watch(self, address: str | None, event: str | None, from_block: int = 0) -> EventWatcher:
        return EventWatcher(self, address, event, from_block)

    def new_account(self, balance: int = DEV_BALANCE) -> LocalAccount:
        """A fresh deterministic account funded with `balance` (same address on every backend)."""
        self._created_accounts += 1
        account = dev_account(10_000 + self._created_accounts)
        self.set_balance(account.address, balance)
        return account


class EventWatcher:
    """Follows events from a block on: each `poll()` returns those mined since the last one."""

    def __init__(
        self, backend: Backend, address: str | None, event: str | None, from_block: int
    ) -> None:
        self.backend = backend
        self.address = address
        self.event = event
        self.next_block = from_block

    def poll(self) -> list[Event]:
        latest = self.backend.block_number()
        if latest < self.next_block:
            return []
        events = self.backend.get_logs(self.address, self.event, self.next_block, latest)
        self.next_block = latest + 1
        return events


def dev_accounts(count: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    return [dev_account(i) for i in range(count)]

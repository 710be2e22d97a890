"""A deployed contract: its address and ABI, bound to a backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from nektar.chain.abi import ContractAbi
from nektar.chain.types import Event, Receipt

if TYPE_CHECKING:
    from nektar.chain.backend import Backend, EventWatcher


class Contract:
    """Calls, transactions and events of one contract, the same on every backend.

    Arguments that are contracts or accounts stand for their address.
    """

    def __init__(self, backend: Backend, name: str, abi: ContractAbi, address: str) -> None:
        self.backend = backend
        self.name = name
        self.abi = abi
        self.address = address
        self.deploy_receipt: Receipt | None = None

    def __repr__(self) -> str:
        return f"<{self.name} at {self.address}>"

    def call(self, function: str, *args: Any, sender: str | None = None, value: int = 0) -> Any:
        """Run `function` without a transaction (eth_call) and decode its result."""
        fn = self.abi.function(function, len(args))
        data = self.backend.call_raw(
            self.address, fn.encode_call(args), sender, value, f"{self.name}.{fn.name}"
        )
        return fn.decode_result(data)

    def transact(
        self, function: str, *args: Any, sender: LocalAccount | None = None, value: int = 0
    ) -> Receipt:
        """Send a transaction calling `function`; raises TransactionReverted with the reason."""
        fn = self.abi.function(function, len(args))
        return self.backend.transact_raw(
            sender or self.backend.accounts[0],
            self.address,
            fn.encode_call(args),
            value,
            f"{self.name}.{fn.name}",
        )

    def events(
        self, name: str | None = None, from_block: int = 0, to_block: int | None = None
    ) -> list[Event]:
        """This contract's events (all, or those called `name`) in a block range."""
        return self.backend.get_logs(self.address, name, from_block, to_block)

    def watch(self, name: str | None = None, from_block: int = 0) -> EventWatcher:
        """A cursor over this contract's events: each `poll()` returns only the new ones."""
        return self.backend.watch(self.address, name, from_block)

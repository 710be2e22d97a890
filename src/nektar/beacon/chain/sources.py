"""Where the devnet chain meets the EVM: deposits in, withdrawals out (through `nektar.chain`).

- `ContractDeposits` reads the DepositContract's `DepositEvent` logs (in-process EVM or any
  JSON-RPC node, whichever backend the contract is bound to) and turns them into EIP-6110
  deposit requests, in log order.
- `EvmWithdrawals` pays a withdrawal by raising the credential address's balance with the
  backend's `set_balance` (in process: the EVM's own balance API; anvil: `anvil_setBalance`).
  The devnet has no execution layer to credit withdrawals natively, so this is the stand-in;
  it mints exactly the withdrawn gwei x 10^9 wei and nothing else.
"""

from __future__ import annotations

from typing import Protocol

from nektar.beacon.chain.containers import DepositRequest
from nektar.chain import Contract


class DepositSource(Protocol):
    def poll(self) -> list[DepositRequest]:
        """Deposits seen since the last poll, in deposit-index order."""
        ...


class WithdrawalSink(Protocol):
    def pay(self, address: bytes, amount_gwei: int) -> None: ...


class ContractDeposits:
    def __init__(self, deposit_contract: Contract, from_block: int = 0) -> None:
        self.watcher = deposit_contract.backend.watch(
            deposit_contract.address, "DepositEvent", from_block
        )

    def poll(self) -> list[DepositRequest]:
        return [
            DepositRequest(
                pubkey=event["pubkey"],
                withdrawal_credentials=event["withdrawal_credentials"],
                amount=int.from_bytes(event["amount"], "little"),
                signature=event["signature"],
                index=int.from_bytes(event["index"], "little"),
            )
            for event in self.watcher.poll()
        ]


class EvmWithdrawals:
    def __init__(self, backend: object) -> None:
        self.backend = backend

    def pay(self, address: bytes, amount_gwei: int) -> None:
        checksum = "0x" + address.hex()
        current = self.backend.balance_of(checksum)  # type: ignore[attr-defined]
        self.backend.set_balance(checksum, current + amount_gwei * 10**9)  # type: ignore[attr-defined]

"""The in-process backend: py-evm (through titanoboa's environment) run as a tiny chain.

Transactions are real signed EIP-1559 transactions applied with py-evm's transaction
executor, so gas accounting (intrinsic gas, refunds, EIP-7623 floor) and nonces are those
of a node; a failing transaction is rolled back, as a node would refuse to include it when
its gas estimate reverts. The base fee is zero, so balances move only by value transfers —
the same as on the anvil the tests start.
"""

from __future__ import annotations

from collections.abc import Sequence

import boa
from eth.exceptions import Revert
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_canonical_address, to_checksum_address

from nektar.chain.accounts import sign_dynamic_fee_tx
from nektar.chain.backend import (
    DEFAULT_CHAIN_ID,
    DEV_ACCOUNT_COUNT,
    DEV_BALANCE,
    Backend,
    dev_accounts,
)
from nektar.chain.errors import NodeError, TransactionReverted
from nektar.chain.types import Log, Receipt

TX_GAS_LIMIT = 30_000_000
PREVRANDAO_SEED = b"nektar in-process prevrandao"


class InProcessBackend(Backend):
    """An EVM inside this process: no node to start, same keys and addresses every run.

    The clock starts at the wall-clock time of creation. Use it from one thread.
    """

    def __init__(
        self,
        chain_id: int = DEFAULT_CHAIN_ID,
        account_count: int = DEV_ACCOUNT_COUNT,
        balance: int = DEV_BALANCE,
    ) -> None:
        super().__init__(chain_id, dev_accounts(account_count))
        self.env = boa.Env()
        self._vm = self.env.evm.vm
        self._vm.state.execution_context._base_fee_per_gas = 0
        self.env.evm.patch.chain_id = chain_id
        self._latest_number = 0
        self._latest_timestamp = int(self.env.timestamp)
        self._logs: list[Log] = []
        for account in self.accounts:
            self.set_balance(account.address, balance)

    def _at_block(self, number: int, timestamp: int) -> None:
        """Execute in the context of block `number`: its timestamp and its own prevrandao
        (deterministic, different per block, as contracts seeding from it expect)."""
        patch = self.env.evm.patch
        patch.block_number = number
        patch.timestamp = timestamp
        patch.prevrandao = keccak(PREVRANDAO_SEED + number.to_bytes(32, "big"))

    def _submit(
        self, sender: LocalAccount, to: str | None, data: bytes, value: int, action: str
    ) -> Receipt:
        state = self._vm.state
        raw = sign_dynamic_fee_tx(
            sender,
            chain_id=self.chain_id,
            nonce=state.get_nonce(to_canonical_address(sender.address)),
            max_fee=0,
            tip=0,
            gas=TX_GAS_LIMIT,
            value=value,
            data=data,
            to=to,
        )
        transaction = self._vm.get_transaction_builder().decode(raw)

        number, timestamp = self._latest_number + 1, self._latest_timestamp + 1
        self._at_block(number, timestamp)
        # EIP-2929: every transaction starts with cold accounts and slots.
        self.env.evm.reset_access_counters()
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(transaction)
        except Exception as exc:  # py-evm validation: nonce, funds, gas limit
            state.revert(snapshot)
            raise NodeError(f"{action}: transaction rejected: {exc}") from exc
        if computation.is_error:
            state.revert(snapshot)
            revert_data = computation.output if isinstance(computation.error, Revert) else b""
            raise TransactionReverted(action, bytes(revert_data))

        header = self._vm.get_header().copy(gas_used=0)
        gas_used = self._vm.make_receipt(header, transaction, computation, state).gas_used
        tx_hash = keccak(raw)
        logs = tuple(
            Log(
                address=to_checksum_address(address),
                topics=tuple(topic.to_bytes(32, "big") for topic in topics),
                data=bytes(log_data),
                block_number=number,
                tx_hash=tx_hash,
                log_index=index,
            )
            for index, (address, topics, log_data) in enumerate(computation.get_log_entries())
        )
        # Later transactions see this one's writes as their "original" storage values
        # (EIP-2200 pricing), as on a node.
        state.lock_changes()
        self._logs.extend(logs)
        self._latest_number, self._latest_timestamp = number, timestamp
        created = to_checksum_address(computation.msg.storage_address) if to is None else None
        return Receipt(
            tx_hash=tx_hash,
            block_number=number,
            gas_used=gas_used,
            contract_address=created,
            logs=logs,
        )

    def call_raw(self, to: str, data: bytes, sender: str | None, value: int, action: str) -> bytes:
        with self.env.anchor():
            self._at_block(self._latest_number, self._latest_timestamp)
            computation = self.env.execute_code(
                to_address=to,
                sender=sender or "0x0000000000000000000000000000000000000000",
                data=data,
                value=value,
                is_modifying=True,
            )
        if computation.is_error:
            revert_data = computation.output if isinstance(computation.error, Revert) else b""
            raise TransactionReverted(action, bytes(revert_data))
        return bytes(computation.output)

    def raw_logs(
        self,
        addresses: Sequence[str] | None,
        topic0: Sequence[bytes] | None,
        from_block: int,
        to_block: int,
    ) -> list[Log]:
        wanted = {a.lower() for a in addresses} if addresses is not None else None
        return [
            log
            for log in self._logs
            if from_block <= log.block_number <= to_block
            and (wanted is None or log.address.lower() in wanted)
            and (topic0 is None or (log.topics and log.topics[0] in topic0))
        ]

    def balance_of(self, address: str) -> int:
        return int(self.env.get_balance(address))

    def set_balance(self, address: str, wei: int) -> None:
        self.env.set_balance(address, wei)

    def block_number(self) -> int:
        return self._latest_number

    def timestamp(self) -> int:
        return self._latest_timestamp

    def increase_time(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._latest_number += 1
        self._latest_timestamp += seconds

    def snapshot(self) -> tuple[bytes, int, int, int]:
        """Persist the state and remember its root: transactions lock their changes (as a
        node does), so journal checkpoints cannot reach back across them."""
        state = self._vm.state
        state.persist()
        return (state.state_root, self._latest_number, self._latest_timestamp, len(self._logs))

    def revert(self, snapshot: tuple[bytes, int, int, int]) -> None:
        state_root, self._latest_number, self._latest_timestamp, log_count = snapshot
        state = self._vm.state
        state._account_db = type(state._account_db)(state._db, state_root)
        del self._logs[log_count:]

    def code_at(self, address: str) -> bytes:
        return bytes(self.env.get_code(address))

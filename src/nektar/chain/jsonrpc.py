"""The JSON-RPC backend: any Ethereum node over HTTP (anvil in tests and devnets).

Transactions are signed locally with the caller's keys and sent raw, so the node needs no
unlocked accounts. Each transaction is first gas-estimated: a revert there is raised as
`TransactionReverted` with the node's revert data, and nothing is sent — the same outcome
as on the in-process backend.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from nektar.chain.accounts import sign_dynamic_fee_tx
from nektar.chain.backend import DEV_ACCOUNT_COUNT, DEV_BALANCE, Backend, dev_accounts
from nektar.chain.errors import NodeError, TransactionReverted
from nektar.chain.types import Log, Receipt

RECEIPT_TIMEOUT_S = 30.0
GAS_MARGIN_NUM, GAS_MARGIN_DEN = 6, 5  # 20% over the estimate: 63/64 rule and refunds


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class JsonRpcBackend(Backend):
    """A node reached over HTTP JSON-RPC.

    With `fund_dev_accounts` (anvil and other dev nodes), the deterministic development
    accounts are credited via `anvil_setBalance`; on other nodes pass funded `accounts`.
    `priority_fee` fixes the tip (wei per gas); None asks the node for its suggestion.
    """

    def __init__(
        self,
        url: str,
        accounts: Sequence[LocalAccount] | None = None,
        fund_dev_accounts: bool = True,
        balance: int = DEV_BALANCE,
        timeout: float = 30.0,
        priority_fee: int | None = None,
    ) -> None:
        self.url = url
        self.priority_fee = priority_fee
        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
        chain_id = int(self._rpc("eth_chainId", []), 16)
        if accounts is None:
            accounts = dev_accounts(DEV_ACCOUNT_COUNT)
        super().__init__(chain_id, accounts)
        if fund_dev_accounts:
            for account in self.accounts:
                self.set_balance(account.address, balance)

    # ---- transport ----

    def _request(self, method: str, params: list[Any]) -> dict[str, Any]:
        try:
            return dict(self.w3.provider.make_request(RPCEndpoint(method), params))
        except Exception as exc:  # connection refused, timeout, bad HTTP status
            raise NodeError(f"{method} to {self.url} failed: {exc}") from exc

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self._request(method, params)
        if "error" in response:
            raise NodeError(f"{method}: {response['error'].get('message', response['error'])}")
        return response.get("result")

    def _raise_for(self, error: dict[str, Any], action: str) -> None:
        """Turn a node error into TransactionReverted when it is an EVM revert."""
        message = str(error.get("message", error))
        data = error.get("data")
        if isinstance(data, dict):  # some nodes nest it: {"data": {"data": "0x…"}}
            data = data.get("data")
        if error.get("code") == 3 or "revert" in message.lower():
            raise TransactionReverted(action, _bytes(data) if isinstance(data, str) else b"")
        raise NodeError(f"{action}: {message}")

    # ---- raw operations ----

    def _submit(
        self, sender: LocalAccount, to: str | None, data: bytes, value: int, action: str
    ) -> Receipt:
        request: dict[str, Any] = {
            "from": sender.address,
            "data": "0x" + data.hex(),
            "value": hex(value),
        }
        if to is not None:
            request["to"] = to
        estimate = self._request("eth_estimateGas", [request, "latest"])
        if "error" in estimate:
            self._raise_for(estimate["error"], action)
        gas = int(estimate["result"], 16) * GAS_MARGIN_NUM // GAS_MARGIN_DEN

        latest = self._rpc("eth_getBlockByNumber", ["latest", False])
        base_fee = int(latest.get("baseFeePerGas", "0x0"), 16)
        tip = self.priority_fee
        if tip is None:
            tip = int(self._rpc("eth_maxPriorityFeePerGas", []), 16)
        raw = sign_dynamic_fee_tx(
            sender,
            chain_id=self.chain_id,
            nonce=int(self._rpc("eth_getTransactionCount", [sender.address, "pending"]), 16),
            max_fee=2 * base_fee + tip,
            tip=tip,
            gas=gas,
            value=value,
            data=data,
            to=to,
        )
        sent = self._request("eth_sendRawTransaction", ["0x" + raw.hex()])
        if "error" in sent:
            self._raise_for(sent["error"], action)
        receipt = self._wait_for_receipt(keccak(raw), action)
        if int(receipt["status"], 16) != 1:
            self._replay_failure(request, receipt, action)
        return self._receipt(receipt)

    def _wait_for_receipt(self, tx_hash: bytes, action: str) -> dict[str, Any]:
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        delay = 0.001
        while True:
            receipt = self._rpc("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])
            if receipt is not None:
                return dict(receipt)
            if time.monotonic() > deadline:
                raise NodeError(f"{action}: not mined within {RECEIPT_TIMEOUT_S:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _replay_failure(
        self, request: dict[str, Any], receipt: dict[str, Any], action: str
    ) -> None:
        """A transaction that passed estimation but failed when mined: find out why."""
        replay = self._request("eth_call", [request, receipt["blockNumber"]])
        if "error" in replay:
            self._raise_for(replay["error"], action)
        raise TransactionReverted(action, b"")

    @staticmethod
    def _receipt(raw: dict[str, Any]) -> Receipt:
        tx_hash = _bytes(raw["transactionHash"])
        created = raw.get("contractAddress")
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(raw["blockNumber"], 16),
            gas_used=int(raw["gasUsed"], 16),
            contract_address=to_checksum_address(created) if created else None,
            logs=tuple(JsonRpcBackend._log(log) for log in raw.get("logs", [])),
        )

    @staticmethod
    def _log(raw: dict[str, Any]) -> Log:
        return Log(
            address=to_checksum_address(raw["address"]),
            topics=tuple(_bytes(topic) for topic in raw["topics"]),
            data=_bytes(raw["data"]),
            block_number=int(raw["blockNumber"], 16),
            tx_hash=_bytes(raw["transactionHash"]),
            log_index=int(raw["logIndex"], 16),
        )

    def call_raw(self, to: str, data: bytes, sender: str | None, value: int, action: str) -> bytes:
        request: dict[str, Any] = {"to": to, "data": "0x" + data.hex(), "value": hex(value)}
        if sender is not None:
            request["from"] = sender
        response = self._request("eth_call", [request, "latest"])
        if "error" in response:
            self._raise_for(response["error"], action)
        return _bytes(response["result"])

    def raw_logs(
        self,
        addresses: Sequence[str] | None,
        topic0: Sequence[bytes] | None,
        from_block: int,
        to_block: int,
    ) -> list[Log]:
        query: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        if addresses is not None:
            query["address"] = list(addresses)
        if topic0 is not None:
            query["topics"] = [["0x" + t.hex() for t in topic0]]
        return [self._log(log) for log in self._rpc("eth_getLogs", [query])]

    def balance_of(self, address: str) -> int:
        return int(self._rpc("eth_getBalance", [address, "latest"]), 16)

    def set_balance(self, address: str, wei: int) -> None:
        self._rpc("anvil_setBalance", [address, hex(wei)])

    def block_number(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    def timestamp(self) -> int:
        return int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def increase_time(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._rpc("evm_setNextBlockTimestamp", [hex(self.timestamp() + seconds)])
        self._rpc("evm_mine", [])

    def snapshot(self) -> str:
        return str(self._rpc("evm_snapshot", []))

    def revert(self, snapshot: str) -> None:
        if self._rpc("evm_revert", [snapshot]) is not True:
            raise NodeError(f"the node has no snapshot {snapshot}")

    def code_at(self, address: str) -> bytes:
        return _bytes(self._rpc("eth_getCode", [address, "latest"]))

"""One scenario, two EVMs: every test here runs in-process and against a real anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from remerkleable.basic import uint64
from remerkleable.complex import List

from nektar.chain import (
    AbiError,
    Backend,
    InProcessBackend,
    NodeError,
    TransactionReverted,
    compile_contract,
)
from nektar.chain.anvil import Anvil
from nektar.chain.deposit import DepositContract
from nektar.crypto.signing import DepositData

GWEI = 10**9
ETH = 10**18
ROOT_MISMATCH = (
    "DepositContract: reconstructed DepositData does not match supplied deposit_data_root"
)


def charon_deposits(vectors_dir: Path) -> list[dict]:
    return json.loads((vectors_dir / "deposit" / "charon_deposit_data.golden.json").read_text())


def deposit_args(entry: dict) -> tuple[bytes, bytes, bytes, bytes]:
    return (
        bytes.fromhex(entry["pubkey"]),
        bytes.fromhex(entry["withdrawal_credentials"]),
        bytes.fromhex(entry["signature"]),
        bytes.fromhex(entry["deposit_data_root"]),
    )


def run_deposit_scenario(backend: Backend, vectors_dir: Path) -> dict:
    """Deploy, deposit every vector, read everything back; returns what must match across EVMs."""
    start = backend.block_number()
    contract = DepositContract.deploy(backend)
    watcher = contract.watch(from_block=start + 1)
    staker = backend.new_account(balance=1_000 * ETH)
    entries = charon_deposits(vectors_dir)
    receipts = [
        contract.deposit(staker, *deposit_args(e), amount_gwei=e["amount"]) for e in entries
    ]
    polled = watcher.poll()
    assert watcher.poll() == []
    assert contract.deposits(from_block=start + 1) == polled
    expected = List[DepositData, 2**32](
        DepositData(
            pubkey=bytes.fromhex(e["pubkey"]),
            withdrawal_credentials=bytes.fromhex(e["withdrawal_credentials"]),
            amount=uint64(e["amount"]),
            signature=bytes.fromhex(e["signature"]),
        )
        for e in entries
    )
    assert contract.deposit_root() == bytes(expected.hash_tree_root())
    assert contract.deposit_count() == len(entries)
    deposited = sum(e["amount"] for e in entries) * GWEI
    assert backend.balance_of(contract.address) == deposited
    assert backend.balance_of(staker.address) == 1_000 * ETH - deposited
    return {
        "address": contract.address,
        "deploy_gas": contract.contract.deploy_receipt.gas_used,
        "gas": [r.gas_used for r in receipts],
        "deposits": polled,
        "blocks": [r.block_number - start for r in receipts],
    }


def test_deposit_vectors_and_events(backend: Backend, vectors_dir: Path):
    outcome = run_deposit_scenario(backend, vectors_dir)
    entries = charon_deposits(vectors_dir)
    assert len(outcome["deposits"]) == len(entries)
    for index, (deposit, entry) in enumerate(zip(outcome["deposits"], entries, strict=True)):
        assert deposit.pubkey == bytes.fromhex(entry["pubkey"])
        assert deposit.withdrawal_credentials == bytes.fromhex(entry["withdrawal_credentials"])
        assert deposit.signature == bytes.fromhex(entry["signature"])
        assert deposit.amount_gwei == entry["amount"]
        assert deposit.index == index


@pytest.mark.anvil
def test_both_backends_agree(anvil_backend: Backend, vectors_dir: Path):
    """Same keys, same transactions: same addresses, gas used, events and block layout."""
    in_process = run_deposit_scenario(InProcessBackend(), vectors_dir)
    on_anvil = run_deposit_scenario(anvil_backend, vectors_dir)
    # Transaction hashes differ: the gas limit (part of the signed transaction) is estimated
    # on a node and fixed in-process.
    for key in ("address", "deploy_gas", "gas", "blocks"):
        assert in_process[key] == on_anvil[key], key
    strip = [(d.pubkey, d.amount_gwei, d.index) for d in in_process["deposits"]]
    assert strip == [(d.pubkey, d.amount_gwei, d.index) for d in on_anvil["deposits"]]


@pytest.mark.parametrize(
    ("mutate", "value", "reason"),
    [
        (lambda a: (a[0][:47], *a[1:]), 32 * ETH, "DepositContract: invalid pubkey length"),
        (
            lambda a: (a[0], a[1][:31], *a[2:]),
            32 * ETH,
            "DepositContract: invalid withdrawal_credentials length",
        ),
        (
            lambda a: (*a[:2], a[2][:95], a[3]),
            32 * ETH,
            "DepositContract: invalid signature length",
        ),
        (lambda a: a, ETH - GWEI, "DepositContract: deposit value too low"),
        (lambda a: a, 32 * ETH + 1, "DepositContract: deposit value not multiple of gwei"),
        (lambda a: (*a[:3], b"\x00" * 32), 32 * ETH, ROOT_MISMATCH),
    ],
)
def test_revert_reasons(backend: Backend, vectors_dir: Path, mutate, value, reason):
    contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
    args = mutate(deposit_args(charon_deposits(vectors_dir)[0]))
    before = backend.block_number()
    with pytest.raises(TransactionReverted) as raised:
        contract.transact("deposit", *args, value=value)
    assert raised.value.reason == reason
    assert str(raised.value) == f"DepositContract.deposit reverted: {reason}"
    assert backend.block_number() == before  # nothing was mined


def test_call_revert_and_abi_errors(backend: Backend):
    contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
    with pytest.raises(AbiError, match="no function 'nope'"):
        contract.call("nope")
    with pytest.raises(AbiError, match="takes"):
        contract.call("supportsInterface")
    with pytest.raises(AbiError, match="do not fit"):
        contract.call("supportsInterface", "not four bytes")
    assert contract.call("supportsInterface", bytes.fromhex("01ffc9a7")) is True


def test_balances_and_plain_transfers(backend: Backend):
    rich, poor = backend.new_account(balance=5 * ETH), backend.new_account(balance=0)
    assert backend.balance_of(rich.address) == 5 * ETH
    assert backend.balance_of(poor.address) == 0
    receipt = backend.send_eth(rich, poor.address, 2 * ETH)
    assert receipt.gas_used == 21_000
    assert backend.balance_of(poor.address) == 2 * ETH
    assert backend.balance_of(rich.address) == 3 * ETH
    backend.set_balance(poor.address, 7)
    assert backend.balance_of(poor.address) == 7


def test_time_travel_and_blocks(backend: Backend):
    number, timestamp = backend.block_number(), backend.timestamp()
    backend.increase_time(3_600)
    assert backend.block_number() == number + 1
    assert backend.timestamp() == timestamp + 3_600
    backend.send_eth(backend.accounts[0], backend.accounts[1].address, 1)
    assert backend.block_number() == number + 2
    assert backend.timestamp() >= timestamp + 3_600


def test_snapshot_and_revert(backend: Backend):
    account = backend.new_account(balance=ETH)
    mark, number = backend.snapshot(), backend.block_number()
    contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
    backend.set_balance(account.address, 0)
    backend.revert(mark)
    assert backend.block_number() == number
    assert backend.balance_of(account.address) == ETH
    assert backend.code_at(contract.address) == b""
    assert backend.get_logs(from_block=number + 1) == []


def test_prague_bls_precompile(backend: Backend):
    """EIP-2537 G1ADD (0x0b): infinity + infinity = infinity, so 128 zero bytes come back."""
    output = backend.call_raw("0x" + "00" * 19 + "0b", b"\x00" * 256, None, 0, "G1ADD")
    assert output == b"\x00" * 128


def test_anvil_start_failure_is_reported():
    with pytest.raises(NodeError, match="anvil exited"):
        Anvil(hardfork="no-such-fork")


def test_anvil_stops_cleanly():
    with Anvil(chain_id=4242) as node:
        backend = node.backend()
        assert backend.chain_id == 4242
        process = node.process
    assert process.poll() is not None


def test_block_context_seen_by_contracts(backend: Backend, tmp_path: Path):
    source = tmp_path / "BlockContext.vy"
    source.write_text(
        "# pragma version ~=0.4.3\n"
        "@external\n@view\ndef context() -> (uint256, uint256, bytes32, uint256):\n"
        "    return block.number, block.timestamp, block.prevrandao, chain.id\n"
    )
    contract = backend.deploy(compile_contract(source))
    number, timestamp, first_random, chain_id = contract.call("context")
    assert (number, timestamp, chain_id) == (
        backend.block_number(),
        backend.timestamp(),
        backend.chain_id,
    )
    backend.increase_time(12)
    number, timestamp, second_random, _ = contract.call("context")
    assert (number, timestamp) == (backend.block_number(), backend.timestamp())
    assert second_random != first_random

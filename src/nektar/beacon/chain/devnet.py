"""One call to a running devnet beacon node: interop-style genesis keys the node manages,
deposits followed from a DepositContract, withdrawals paid on its EVM."""

from __future__ import annotations

import time

from nektar.beacon.chain.config import GWEI_PER_ETH, BeaconConfig, devnet_chain
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.chain.sources import ContractDeposits, EvmWithdrawals
from nektar.chain import Contract
from nektar.crypto import bls
from nektar.crypto.signing import eth1_withdrawal_credentials

GENESIS_WITHDRAWAL_ADDRESS = bytes.fromhex("00000000000000000000000000000000000dead1")


def interop_secret(index: int) -> int:
    """The devnet's deterministic key of genesis validator `index` (EIP-2333 KeyGen of the
    index as a 32-byte seed): anyone can recompute it, so these keys guard nothing real."""
    return bls.keygen(b"nektar devnet genesis".ljust(24, b"\x00") + index.to_bytes(8, "big"))


def devnet_node(
    validator_count: int = 64,
    *,
    genesis_time: int | None = None,
    seconds_per_slot: int = 2,
    slots_per_epoch: int = 8,
    deposit_contract: Contract | None = None,
    withdrawal_address: bytes = GENESIS_WITHDRAWAL_ADDRESS,
) -> DevnetBeaconNode:
    """A node whose `validator_count` genesis validators it runs itself (32 ETH each, 0x01
    credentials to `withdrawal_address`). With a deposit contract, its DepositEvent logs are
    followed and withdrawals are paid on the same EVM backend."""
    genesis_time = int(time.time()) if genesis_time is None else genesis_time
    chain = devnet_chain(
        genesis_time=genesis_time,
        seconds_per_slot=seconds_per_slot,
        slots_per_epoch=slots_per_epoch,
        deposit_contract_address=deposit_contract.address if deposit_contract else None,
    )
    cfg = BeaconConfig(chain=chain)
    keys = {i: interop_secret(i) for i in range(validator_count)}
    credentials = eth1_withdrawal_credentials(withdrawal_address)
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), credentials, 32 * GWEI_PER_ETH) for sk in keys.values()
    ]
    return DevnetBeaconNode(
        genesis_state(cfg, genesis_time, validators),
        managed_keys=keys,
        deposits=ContractDeposits(deposit_contract) if deposit_contract else None,
        withdrawals=EvmWithdrawals(deposit_contract.backend) if deposit_contract else None,
    )

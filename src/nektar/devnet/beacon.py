"""The devnet beacon chain as its own process: `python -m nektar.devnet.beacon …`.

One `DevnetBeaconNode` behind the Beacon API server, driven by the wall clock (`SlotClock`).
It follows the DepositContract's `DepositEvent` logs on an EVM JSON-RPC node (anvil) and pays
withdrawals there with `anvil_setBalance`, so stakers' ETH really flows back on the EVM.

Genesis holds `--managed` validators the node runs itself (interop keys; they keep the chain
finalizing whatever the distributed validators do) and, optionally, extra validators given as
a JSON list of `{"pubkey": "0x…", "withdrawal_credentials": "0x…"}` (32 ETH each, run by
someone else, e.g. a Stinger cluster in the tests). The bound URL is written to `--url-file`
(atomically) once the server listens; SIGTERM/SIGINT stop the process cleanly.

Timing is a devnet choice (`DevnetTiming`): short slots, few slots per epoch, a seed look-ahead
of one epoch and a small base-reward factor, so that a validator goes from its first deposit
to active in well under a minute and the rewards of a few epochs stay inside the staking
pool's APR sanity limit even though a devnet "year" of epochs passes very fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from nektar.beacon.chain.clock import SlotClock
from nektar.beacon.chain.config import GWEI_PER_ETH, BeaconConfig, devnet_chain
from nektar.beacon.chain.devnet import GENESIS_WITHDRAWAL_ADDRESS, interop_secret
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.chain.sources import ContractDeposits, EvmWithdrawals
from nektar.beacon.server import BeaconAPIServer
from nektar.chain.deposit import DepositContract
from nektar.chain.jsonrpc import JsonRpcBackend
from nektar.crypto import bls
from nektar.crypto.signing import eth1_withdrawal_credentials


@dataclass(frozen=True)
class DevnetTiming:
    """Beacon-chain parameters of the live devnet (all are config values, not presets)."""

    seconds_per_slot: int = 1
    slots_per_epoch: int = 4
    max_seed_lookahead: int = 1
    base_reward_factor: int = 2
    shard_committee_period: int = 1
    min_validator_withdrawability_delay: int = 1

    def config(self, genesis_time: int, deposit_contract: str | None) -> BeaconConfig:
        chain = devnet_chain(
            genesis_time=genesis_time,
            seconds_per_slot=self.seconds_per_slot,
            slots_per_epoch=self.slots_per_epoch,
            deposit_contract_address=deposit_contract,
        )
        return BeaconConfig(
            chain=chain,
            max_seed_lookahead=self.max_seed_lookahead,
            base_reward_factor=self.base_reward_factor,
            shard_committee_period=self.shard_committee_period,
            min_validator_withdrawability_delay=self.min_validator_withdrawability_delay,
        )

    def args(self) -> list[str]:
        """The command-line flags that reproduce this timing in the beacon process."""
        return [
            "--seconds-per-slot", str(self.seconds_per_slot),
            "--slots-per-epoch", str(self.slots_per_epoch),
            "--max-seed-lookahead", str(self.max_seed_lookahead),
            "--base-reward-factor", str(self.base_reward_factor),
            "--shard-committee-period", str(self.shard_committee_period),
            "--withdrawability-delay", str(self.min_validator_withdrawability_delay),
        ]  # fmt: skip


def build_node(
    timing: DevnetTiming,
    genesis_time: int,
    managed: int,
    extra: list[GenesisValidator],
    rpc_url: str | None,
    deposit_contract: str | None,
) -> DevnetBeaconNode:
    """The node: `managed` interop validators + `extra` ones, bridged to the EVM if given."""
    cfg = timing.config(genesis_time, deposit_contract)
    keys = {i: interop_secret(i) for i in range(managed)}
    credentials = eth1_withdrawal_credentials(GENESIS_WITHDRAWAL_ADDRESS)
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), credentials, 32 * GWEI_PER_ETH) for sk in keys.values()
    ] + extra
    deposits = withdrawals = None
    if rpc_url is not None and deposit_contract is not None:
        backend = JsonRpcBackend(rpc_url, accounts=[], fund_dev_accounts=False)
        contract = DepositContract.at(backend, deposit_contract)
        deposits = ContractDeposits(contract.contract)
        withdrawals = EvmWithdrawals(backend)
    return DevnetBeaconNode(
        genesis_state(cfg, genesis_time, validators),
        managed_keys=keys,
        deposits=deposits,
        withdrawals=withdrawals,
    )


def read_extra_validators(path: Path) -> list[GenesisValidator]:
    """`[{"pubkey": "0x…", "withdrawal_credentials": "0x…"}, …]` → 32 ETH genesis entries."""
    entries = json.loads(path.read_text())
    return [
        GenesisValidator(
            bytes.fromhex(e["pubkey"].removeprefix("0x")),
            bytes.fromhex(e["withdrawal_credentials"].removeprefix("0x")),
            32 * GWEI_PER_ETH,
        )
        for e in entries
    ]


async def serve(node: DevnetBeaconNode, port: int, url_file: Path) -> None:
    """Serve the API and drive the clock until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = BeaconAPIServer(node, port=port)
    url = await server.start()
    tmp = url_file.with_name(url_file.name + ".tmp")
    tmp.write_text(url)
    os.replace(tmp, url_file)
    clock = asyncio.ensure_future(SlotClock(node).run())
    try:
        await stop.wait()
    finally:
        clock.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await clock
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nektar.devnet.beacon", description=__doc__)
    parser.add_argument("--url-file", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--genesis-time", type=int, default=None)
    parser.add_argument("--managed", type=int, default=16)
    parser.add_argument("--extra-validators", type=Path, default=None)
    parser.add_argument("--rpc-url", default=None)
    parser.add_argument("--deposit-contract", default=None)
    defaults = DevnetTiming()
    parser.add_argument("--seconds-per-slot", type=int, default=defaults.seconds_per_slot)
    parser.add_argument("--slots-per-epoch", type=int, default=defaults.slots_per_epoch)
    parser.add_argument("--max-seed-lookahead", type=int, default=defaults.max_seed_lookahead)
    parser.add_argument("--base-reward-factor", type=int, default=defaults.base_reward_factor)
    parser.add_argument(
        "--shard-committee-period", type=int, default=defaults.shard_committee_period
    )
    parser.add_argument(
        "--withdrawability-delay", type=int, default=defaults.min_validator_withdrawability_delay
    )
    args = parser.parse_args(argv)
    timing = DevnetTiming(
        seconds_per_slot=args.seconds_per_slot,
        slots_per_epoch=args.slots_per_epoch,
        max_seed_lookahead=args.max_seed_lookahead,
        base_reward_factor=args.base_reward_factor,
        shard_committee_period=args.shard_committee_period,
        min_validator_withdrawability_delay=args.withdrawability_delay,
    )
    extra = read_extra_validators(args.extra_validators) if args.extra_validators else []
    genesis_time = args.genesis_time if args.genesis_time is not None else int(time.time()) + 2
    node = build_node(
        timing, genesis_time, args.managed, extra, args.rpc_url, args.deposit_contract
    )
    asyncio.run(serve(node, args.port, args.url_file))


if __name__ == "__main__":
    main()

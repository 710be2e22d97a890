"""The chain services of four nodes carry a validator from proposal to withdrawal, against
the devnet beacon chain served over the real Beacon API: DKG engines register it (1 ETH), the
four oracle reporters agree on the confirmation and one submits it, the lifecycle service
activates it (31 ETH), a later report with the validator's rewards raises divETH's rate; a
withdrawal request the buffer cannot pay makes the next report name it to exit, the lifecycle
service has it exit, and a last report records it withdrawn and pays the staker's request.

The beacon chain is driven slot by slot (`advance_slots`) and the EVM clock is moved with
it, so the oracle's frames and the beacon slots stay aligned. The validator's attestations
come from the beacon node's managed-validator path fed with the group secret recovered from
t shares, and its voluntary exit is combined from t partial signatures: stand-ins for the
node's duty workflow and exit path (`StingerNode.exit`), which tests/stinger/ covers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from fractions import Fraction

import pytest

from nektar.beacon.chain.containers import SignedVoluntaryExit
from nektar.beacon.chain.devnet import devnet_node
from nektar.beacon.chain.interface import NotFound
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.client import BeaconClient
from nektar.beacon.server import BeaconAPIServer
from nektar.chain.diva_ops import Report, deploy_diva_system, play_cluster
from nektar.chain.pods import deploy_native_restaking
from nektar.crypto import threshold
from nektar.crypto.signing import (
    DOMAIN_VOLUNTARY_EXIT,
    VoluntaryExit,
    compute_domain,
    compute_signing_root,
    deposit_data_root,
    deposit_signing_root,
    eth1_withdrawal_credentials,
)
from nektar.stinger.lifecycle import LifecycleService
from nektar.stinger.oracle import OracleReporter

from .conftest import ETHER, Protocol, until

SECONDS_PER_SLOT, SLOTS_PER_EPOCH = 2, 8
REGISTERED, ACTIVATED, EXITING, WITHDRAWN, FAILED = 2, 3, 4, 5, 6


class Clocks:
    """Keeps the EVM's clock and the beacon chain's slot together."""

    def __init__(self, protocol: Protocol, beacon, genesis: int) -> None:
        self.p, self.beacon, self.genesis = protocol, beacon, genesis

    def evm_slot(self) -> int:
        return (self.p.backend.timestamp() - self.genesis) // SECONDS_PER_SLOT

    def to_slot(self, slot: int) -> None:
        """Advance both clocks to `slot` (or to the EVM's slot if it is already later)."""
        target = max(slot, self.evm_slot())
        if target > self.beacon.current_slot():
            self.beacon.advance_slots(target - self.beacon.current_slot())
        behind = self.genesis + target * SECONDS_PER_SLOT - self.p.backend.timestamp()
        if behind > 0:
            self.p.backend.increase_time(behind)

    def next_frame(self) -> int:
        """Move into the next frame; returns its reference slot."""
        start = max(self.beacon.current_slot(), self.evm_slot()) // SLOTS_PER_EPOCH + 1
        self.to_slot(start * SLOTS_PER_EPOCH)
        return self.p.system.oracle.current_ref_slot()

    async def until_beacon(self, predicate, max_slots: int, what: str) -> None:
        for _ in range(max_slots):
            if predicate():
                return
            self.to_slot(self.beacon.current_slot() + 1)
            await asyncio.sleep(0)
        raise AssertionError(f"beacon chain: {what} not reached in {max_slots} slots")


def threshold_exit(beacon, client: BeaconClient, shares_of: dict[bytes, dict[int, int]]):
    """The clusters' voluntary exits (shares per group key): t partial signatures combined,
    submitted over the API. An exit already under way counts as done, as in the node's own
    exit path."""

    async def exit_validator(pubkey: bytes) -> bool:
        shares = shares_of[pubkey]
        info = await client.validator(pubkey)
        if str(info.status) != "active_ongoing":
            return True
        epoch = beacon.current_slot() // SLOTS_PER_EPOCH
        message = VoluntaryExit(epoch=epoch, validator_index=int(info.index))
        genesis = await client.genesis()
        domain = compute_domain(
            DOMAIN_VOLUNTARY_EXIT,
            beacon.cfg.chain.voluntary_exit_fork_version,
            bytes(genesis.genesis_validators_root),
        )
        root = compute_signing_root(message.hash_tree_root(), domain)
        partials = {i: threshold.partial_sign(shares[i], root) for i in sorted(shares)[:3]}
        signature = threshold.combine(partials, 3)
        await client.submit_voluntary_exit(
            SignedVoluntaryExit(message=message, signature=signature)
        )
        return True

    return exit_validator


def agreed(p: Protocol, reporters: list[OracleReporter], ref: int) -> Report:
    """The report of frame `ref`: every vote cast was for its hash (no competing variant)."""
    votes = [e for e in p.system.oracle.contract.events("Voted") if int(e["ref_slot"]) == ref]
    hashes = {bytes(e["report_hash"]) for e in votes}
    assert len(hashes) == 1, f"competing reports for ref slot {ref}"
    return next(
        r.reports[ref] for r in reporters if ref in r.reports and r.reports[ref].hash() in hashes
    )


def beacon_status(beacon, pubkey: bytes) -> str | None:
    try:
        return str(beacon.validator("head", pubkey).status.value)
    except NotFound:
        return None


@dataclass
class Devnet:
    """The protocol aligned with a devnet beacon chain served over the Beacon API."""

    p: Protocol
    beacon: DevnetBeaconNode
    clocks: Clocks
    url: str


@pytest.fixture
async def devnet(protocol: Protocol) -> AsyncIterator[Devnet]:
    p = protocol
    genesis = p.backend.timestamp()
    # the system of the fixture has its own genesis: redeploy aligned with the beacon chain
    p.system = deploy_diva_system(
        p.backend,
        genesis_time=genesis,
        seconds_per_slot=SECONDS_PER_SLOT,
        slots_per_epoch=SLOTS_PER_EPOCH,
        epochs_per_frame=1,
    )
    beacon = devnet_node(
        64,
        genesis_time=genesis,
        seconds_per_slot=SECONDS_PER_SLOT,
        slots_per_epoch=SLOTS_PER_EPOCH,
        deposit_contract=p.system.deposit_contract.contract,
    )
    server = BeaconAPIServer(beacon)
    url = await server.start()
    admin = p.backend.accounts[0]
    pool = p.system.lst.pool
    # devnet slots are 2 s: a day of rewards lands in minutes, so governance lifts the APR cap
    pool.contract.transact(
        "set_parameters",
        pool.contract.call("min_deposit"),
        pool.contract.call("fee_bps"),
        p.system.oracle.address,
        100 * 10_000,
        pool.contract.call("max_loss_bps"),
        pool.contract.call("max_finalize_requests"),
        sender=admin,
    )
    for _ in range(4):
        node = p.add_operator()
        p.system.oracle.add_member(admin, "0x" + node.address.hex())  # seats before activation
    yield Devnet(p, beacon, Clocks(p, beacon, genesis), url)
    await server.stop()


def reporters_of(d: Devnet) -> tuple[list[BeaconClient], list[OracleReporter]]:
    clients = [BeaconClient(d.url) for _ in d.p.nodes]
    reporters = [
        OracleReporter(d.p.system, c, n.key, poll_interval=0.2, submit_stagger=1.0)
        for n, c in zip(d.p.nodes, clients, strict=True)
    ]
    return clients, reporters


async def test_confirmation_activation_and_rewards(devnet: Devnet) -> None:
    """A pool validator and a NativePod's validator side by side: the pod's 32 ETH go through
    `propose_for_pod` and its validator's deposit carries 0x01‖pod; both are confirmed (each
    against its own credentials), activated and withdrawn by the same services. The pool
    figures count only the pool's validator (a count including the pod's would be refused by
    the contract's `activated_count` check), and `pod_validators` / `pod_balances` carry the
    pod's balance to the pod. The pod's exit is asked by the pod; `to_exit` never names it."""
    p, beacon, clocks = devnet.p, devnet.beacon, devnet.clocks
    pool, registry = p.system.lst.pool, p.system.validators
    staker = p.stake(32 * ETHER)
    native = deploy_native_restaking(p.system)
    restaker = p.backend.new_account(40 * ETHER)
    pod = native.create_pod(restaker)
    await p.start(p.nodes, fork_version=beacon.cfg.chain.genesis_fork_version)
    clients, reporters = reporters_of(devnet)
    services = [
        LifecycleService(registry, n.clusters, n.key, stagger=1.0, exit_retry=0.3) for n in p.nodes
    ]
    try:
        for node, service in zip(p.nodes, services, strict=True):
            service.attach(node.watcher)
        proposal = p.propose()
        vid = proposal.validator_id
        [pod_vid] = pod.stake(restaker)
        both = (vid, pod_vid)
        await until(
            lambda: all(v in n.engine.results for n in p.nodes for v in both), 60, "registration"
        )
        pubkey, pod_key = (p.nodes[0].engine.results[v].definition.pubkey for v in both)
        deposits = {
            bytes(e["pubkey"]): bytes(e["withdrawal_credentials"])
            for e in p.system.deposit_contract.contract.events("DepositEvent")
        }
        assert deposits == {
            pubkey: p.system.lst.withdrawal_credentials(),
            pod_key: eth1_withdrawal_credentials(bytes.fromhex(pod.address[2:])),
        }
        await clocks.until_beacon(
            lambda: all(beacon_status(beacon, k) is not None for k in (pubkey, pod_key)),
            200,
            "deposits",
        )

        # frame 1: the reporters confirm the credentials; the lifecycle service activates
        ref = clocks.next_frame()
        for reporter in reporters:
            await reporter.start()
        await until(
            lambda: all(registry.validator(v).status == ACTIVATED for v in both), 60, "activate"
        )
        report = agreed(p, reporters, ref)
        assert report.confirmed == both and report.pod_validators == ()
        assert report.beacon_deposited == ETHER  # the pool's 1 ETH only
        assert sum(len(r.submitted) for r in reporters) == 1  # one submission
        assert len(registry.contract.events("ValidatorActivated")) == 2
        assert registry.contract.call("activated_count") == 1
        assert registry.pod_activated_count() == 1
        assert pool.contract.call("deposited_ether") == 32 * ETHER  # the pod paid its own

        # the 31 ETH reach the beacon chain; the cluster attests (stand-in, see module doc)
        await clocks.until_beacon(
            lambda: all(beacon_status(beacon, k) == "active_ongoing" for k in (pubkey, pod_key)),
            300,
            "activation",
        )
        # a frame in which the cluster does not attest: every member is charged missed duties
        clocks.to_slot(beacon.current_slot() + 2 * SLOTS_PER_EPOCH)
        collateral = {i: p.system.operators.collateral(i)[0] for i in proposal.operator_ids}
        ref = clocks.next_frame()
        await until(
            lambda: p.system.oracle.contract.call("last_applied_ref_slot") == ref, 60, "report"
        )
        penalised = agreed(p, reporters, ref)
        missed = {e >> 32: e & 0xFFFFFFFF for e in penalised.performance}
        assert sorted(missed) == sorted(proposal.operator_ids) and min(missed.values()) >= 1
        for i in proposal.operator_ids:
            assert p.system.operators.collateral(i)[0] == collateral[i] - missed[i] * 10**14
        rate_before = p.system.lst.rate()

        every_share = {}
        for v, key in ((vid, pubkey), (pod_vid, pod_key)):
            shares = {
                r.definition.my_index: r.share for r in (n.engine.results[v] for n in p.nodes)
            }
            index = beacon.head_state().index_of(key)
            beacon._managed[index] = threshold.recover_secret(dict(list(shares.items())[:3]))
            every_share[key] = shares
        for service, client in zip(services, clients, strict=True):
            service.exit_validator = threshold_exit(beacon, client, every_share)
        clocks.to_slot(beacon.current_slot() + 4 * SLOTS_PER_EPOCH)

        # frame 2: rewards; operators now hold active shares and vote in their seats too
        ref = clocks.next_frame()
        await until(
            lambda: p.system.oracle.contract.call("last_applied_ref_slot") == ref, 60, "report"
        )
        report = agreed(p, reporters, ref)
        assert report.active_validators == 1 and report.beacon_deposited == 32 * ETHER
        # earned since the last report (the excess above 32 ETH is swept to the vault)
        assert report.beacon_balance + report.vault_balance > penalised.beacon_balance
        assert report.beacon_balance <= 33 * ETHER  # the pod's balance is not in it
        assert report.performance == tuple(i << 32 for i in sorted(proposal.operator_ids))
        assert report.pod_validators == (pod_vid,)
        [pod_balance] = report.pod_balances
        assert 31 * ETHER < pod_balance <= 33 * ETHER
        assert int(pod.contract.call("reported_total")) == pod_balance  # minted as nETH
        assert p.system.lst.rate() > rate_before
        assert all(p.system.operators.reward_shares(i) > 0 for i in proposal.operator_ids)
        assert isinstance(p.system.lst.rate(), Fraction)

        # a withdrawal the buffer cannot pay: the next report names the pool's validator to
        # exit; the pod asks its own validator's exit
        queue = p.system.lst.queue
        request = queue.request_ids(queue.request_withdrawals(staker, [20 * ETHER]))[0]
        pod.request_exit(restaker, pod_vid)
        assert registry.validator(pod_vid).status == EXITING
        ref = clocks.next_frame()
        await until(lambda: registry.validator(vid).status == EXITING, 120, "exit")
        assert agreed(p, reporters, ref).to_exit == (vid,)
        await clocks.until_beacon(
            lambda: all(beacon_status(beacon, k) == "withdrawal_done" for k in (pubkey, pod_key)),
            400,
            "withdrawal",
        )
        assert all(any(v in s.exits_done for s in services) for v in both)

        # the withdrawals reached the vault and the pod: the reports record them, pay the
        # staker's request, and tell the pod its validator's balance is 0
        ref = clocks.next_frame()
        await until(
            lambda: all(registry.validator(v).status == WITHDRAWN for v in both), 60, "withdrawn"
        )
        kept = [r for reporter in reporters for r in reporter.reports.values()]
        report = next(r for r in kept if vid in r.withdrawn)
        assert report.ref_slot <= ref and report.exited_validators == 1
        assert report.beacon_balance == 0 and report.vault_balance >= 32 * ETHER
        assert queue.request(request).finalized
        report = next(r for r in kept if pod_vid in r.withdrawn)
        assert report.pod_validators == (pod_vid,) and report.pod_balances == (0,)
        assert int(pod.contract.call("reported_total")) == 0
        assert pod.withdrawable_ether() >= 31 * ETHER
    finally:
        for reporter in reporters:
            await reporter.stop()
        for service in services:
            await service.stop()
        for client in clients:
            await client.close()


async def test_front_run_validator_is_rejected(devnet: Devnet) -> None:
    """Someone deposits first for the cluster's key with other credentials: the reporters
    reject the validator, it is written off and the 31 ETH are never sent."""
    p, beacon, clocks = devnet.p, devnet.beacon, devnet.clocks
    p.stake(32 * ETHER)
    proposal = p.propose()
    fork = beacon.cfg.chain.genesis_fork_version
    keys = [p.node_of(a).key for a in proposal.nodes]
    registry = p.system.validators
    registration = play_cluster(
        p.backend.chain_id,
        registry.address,
        proposal.validator_id,
        keys,
        registry.withdrawal_credentials(),
        fork,
    )
    # a member that knows the group key front-runs with its own credentials (its t shares)
    attacker = eth1_withdrawal_credentials(bytes.fromhex("bad0" * 10))
    shares = dict(list(registration.secret_shares.items())[:3])
    root = deposit_signing_root(registration.pubkey, attacker, 10**9, fork)
    signature = threshold.combine(
        {i: threshold.partial_sign(k, root) for i, k in shares.items()}, 3
    )
    p.system.deposit_contract.contract.transact(
        "deposit",
        registration.pubkey,
        attacker,
        signature,
        deposit_data_root(registration.pubkey, attacker, 10**9, signature),
        value=ETHER,
    )
    registry.register(p.backend.accounts[0], registration)
    pubkey = registration.pubkey
    await clocks.until_beacon(lambda: beacon_status(beacon, pubkey) is not None, 200, "deposit")
    assert bytes(beacon.validator("head", pubkey).validator.withdrawal_credentials) == attacker
    clients, reporters = reporters_of(devnet)
    try:
        ref = clocks.next_frame()
        for reporter in reporters:
            await reporter.start()
        await until(
            lambda: registry.validator(proposal.validator_id).status == FAILED, 60, "write-off"
        )
        report = agreed(p, reporters, ref)
        assert report.rejected == (proposal.validator_id,) and report.confirmed == ()
        assert report.beacon_balance == 0 and report.beacon_deposited == ETHER  # lost: not ours
        failed = registry.contract.events("ValidatorFailed")
        assert [bool(e["front_run"]) for e in failed] == [True]
        assert p.system.lst.pool.contract.call("deposited_ether") == ETHER  # no 31 ETH
    finally:
        for reporter in reporters:
            await reporter.stop()
        for client in clients:
            await client.close()

"""The oracle reporter: each frame, compute the report from the Beacon API, vote its hash,
and — once the members agree — submit the data (one designated member first).

What a report says (docs/stinger-chain.md has the reasoning):

- `ref_slot`: the OperatorOracle's current frame's reference slot; every figure is read from
  the beacon state at that slot (`/eth/v1/beacon/states/{ref_slot}/validators`), so members
  asking different beacon nodes still agree.
- protocol validators: the pubkeys of the ValidatorRegistry's `ValidatorRegistered` events,
  with their lifecycle status read from the registry and their own withdrawal credentials
  (`withdrawal_credentials(id)`: the vault's for a pool validator, `0x01‖0…‖pod` for a
  NativePod's validator). A validator whose credentials are not the vault's is a pod
  validator: the pool figures below leave it out.
- `beacon_balance`: sum of the balances of pool validators found with exactly the vault's
  0x01 credentials (a front-run key's balance is not ours: its 1 ETH is the loss stakers bear).
- `beacon_deposited`: ETH the beacon chain has credited from the pool's deposits: 1 ETH for
  every registered pool key present in the state (whatever its credentials), 31 ETH more once
  an activated key shows the top-up (balance above 1 ETH, or active/exited status).
- `active_validators` / `exited_validators`: activated pool keys by beacon status.
- `vault_balance`: what the beacon chain's blocks after the last applied report's ref slot,
  up to this ref slot, withdrew to the WithdrawalVault (capped by the vault's balance), so
  the vault and the balances are read at the same point: ETH arriving later is left for the
  next report. The pool pulls it from the vault.
- `confirmed` / `rejected`: REGISTERED, unconfirmed keys (pool and pod) present in the state:
  that validator's own credentials → confirmed, anything else → rejected (front-run).
- `to_exit`: when the WithdrawalQueue's unfinalized ETH exceeds buffer + vault + 32 ETH per
  pool key already exiting, enough ACTIVATED pool keys (lowest id first, active_ongoing on the
  beacon chain) to cover the gap, 32 ETH each. A pod's validators exit only when the pod asks.
- `withdrawn`: EXITING keys (pool and pod) whose beacon status is `withdrawal_done`.
- `pod_validators` / `pod_balances`: every ACTIVATED or EXITING pod validator present in the
  state (ascending id) and its beacon balance in wei (0 once withdrawn); the registry hands
  each to its pod.
- `performance`: every operator holding active key shares (pod validators included: their
  operators perform those duties too), with its missed duties: for each ACTIVATED key and
  each epoch of the frame, if its balance at the epoch's last boundary plus what the blocks
  in between withdrew for it (the sweep of balances above 32 ETH) is below its balance at
  the first boundary, the key lost more in penalties than it earned: one missed epoch for
  every member of its cluster (a distributed validator misses as a cluster). States or
  blocks the beacon node no longer serves count nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.beacon.client.transport import BeaconHTTPError
from nektar.chain.diva_ops import DivaSystem, Report
from nektar.chain.errors import ChainError, TransactionReverted
from nektar.crypto.node_key import NodeKey

log = logging.getLogger("nektar.stinger.oracle")

GWEI = 10**9
ETHER = 10**18
VALIDATOR_ETHER = 32 * ETHER
PRE_DEPOSIT = ETHER
REGISTERED, ACTIVATED, EXITING, WITHDRAWN = 2, 3, 4, 5
KEPT_FRAMES = 16  # reports (and votes) remembered


@dataclass(frozen=True)
class ProtocolValidator:
    """A registered key and what the ValidatorRegistry says about it now."""

    validator_id: int
    pubkey: bytes
    status: int
    confirmed: bool
    operator_ids: tuple[int, ...]
    credentials: bytes  # the 0x01 credentials the registry deposited with
    pod: bool  # a NativePod's validator: outside the pool's figures


class ReportBuilder:
    """Computes a frame's report from the chain and the Beacon API (deterministic per ref slot)."""

    def __init__(self, system: DivaSystem, client: BeaconClient) -> None:
        self.system = system
        self.client = client
        self.backend = system.backend
        self.credentials = system.validators.withdrawal_credentials()
        oracle = system.oracle.contract
        self.slots_per_epoch = int(oracle.call("SLOTS_PER_EPOCH"))
        self._pubkeys: dict[int, bytes] = {}
        self._credentials: dict[int, bytes] = {}  # fixed per validator id
        self._next_block = 0
        self._withdrawals: dict[int, list[tuple[int, bytes, int]]] = {}

    def protocol_validators(self) -> list[ProtocolValidator]:
        """Every registered key with its current lifecycle status (events read once)."""
        registry = self.system.validators
        latest = self.backend.block_number()
        if latest >= self._next_block:
            for event in registry.contract.events("ValidatorRegistered", self._next_block, latest):
                vid = int(event["validator_id"])
                self._pubkeys[vid] = bytes(event["pubkey"])
                self._credentials[vid] = registry.withdrawal_credentials(vid)
            self._next_block = latest + 1
        out = []
        for vid, pubkey in sorted(self._pubkeys.items()):
            info = registry.validator(vid)
            credentials = self._credentials[vid]
            out.append(
                ProtocolValidator(
                    vid,
                    pubkey,
                    info.status,
                    info.confirmed,
                    info.operator_ids,
                    credentials,
                    credentials != self.credentials,
                )
            )
        return out

    async def _balances(
        self, slot: int, pubkeys: list[bytes]
    ) -> dict[bytes, tuple[int, int]] | None:
        """{pubkey: (validator index, balance in gwei)} at `slot`; None if not served."""
        try:
            infos = await self.client.validators(slot, pubkeys)
        except BeaconAPIError:
            return None
        return {bytes(i.validator.pubkey): (int(i.index), int(i.balance)) for i in infos}

    async def _block_withdrawals(self, slot: int) -> list[tuple[int, bytes, int]]:
        """(validator index, address, gwei) of every withdrawal in the block at `slot` (none
        for an empty slot). Raises BeaconAPIError when the block cannot be read."""
        if slot not in self._withdrawals:
            try:
                block = (await self.client.block(slot, ssz=True)).block.message
                found = [
                    (int(w.validator_index), bytes(w.address), int(w.amount))
                    for w in block.body.execution_payload.withdrawals
                ]
            except BeaconHTTPError as exc:
                if exc.status != 404:
                    raise
                found = []
            self._withdrawals[slot] = found
        return self._withdrawals[slot]

    async def _withdrawn(self, first: int, last: int) -> dict[int, int] | None:
        """Gwei withdrawn per validator index by the blocks of slots first..last (the sweep of
        balances above 32 ETH); None if a block could not be read."""
        paid: dict[int, int] = {}
        try:
            for slot in range(first, last + 1):
                for index, _, amount in await self._block_withdrawals(slot):
                    paid[index] = paid.get(index, 0) + amount
        except BeaconAPIError:
            return None
        return paid

    async def _vault_income(self, ref_slot: int) -> int:
        """Wei the beacon chain paid to the vault in blocks after the last applied report's
        ref slot, up to this one: the vault ETH this report accounts for, consistent with the
        balances read at the ref slot (ETH the vault receives later waits for the next
        report, so nothing is counted twice)."""
        last = int(self.system.oracle.contract.call("last_applied_ref_slot"))
        vault = bytes.fromhex(self.system.lst.vault.address[2:])
        total = 0
        for slot in range(last + 1, ref_slot + 1):
            for _, address, amount in await self._block_withdrawals(slot):
                if address == vault:
                    total += amount
        self._withdrawals = {k: v for k, v in self._withdrawals.items() if k > last}
        return min(total * GWEI, self.backend.balance_of(self.system.lst.vault.address))

    async def build(self, ref_slot: int) -> Report:
        validators = self.protocol_validators()
        keys = [v.pubkey for v in validators]
        found = await self.client.validators(ref_slot, keys) if keys else []  # no ids = all
        infos = {bytes(i.validator.pubkey): i for i in found}
        balance = deposited = active = exited = exiting = 0
        confirmed, rejected, withdrawn, candidates = [], [], [], []
        pod_validators, pod_balances = [], []
        for v in validators:
            info = infos.get(v.pubkey)
            if info is None:
                continue
            status = str(info.status)
            if v.status == REGISTERED and not v.confirmed:
                ours = bytes(info.validator.withdrawal_credentials) == v.credentials
                (confirmed if ours else rejected).append(v.validator_id)
            done = v.status == EXITING and status == "withdrawal_done"
            if done:
                withdrawn.append(v.validator_id)
            if v.pod:
                if v.status in (ACTIVATED, EXITING):
                    pod_validators.append(v.validator_id)
                    pod_balances.append(int(info.balance) * GWEI)
                continue
            deposited += PRE_DEPOSIT
            if v.status in (ACTIVATED, EXITING, WITHDRAWN):
                topped_up = int(info.balance) > GWEI or not status.startswith("pending")
                deposited += (VALIDATOR_ETHER - PRE_DEPOSIT) if topped_up else 0
                if status.startswith(("exited", "withdrawal")):
                    exited += 1
                else:
                    active += 1
            if bytes(info.validator.withdrawal_credentials) == self.credentials:
                balance += int(info.balance) * GWEI
            if v.status == EXITING and not done:
                exiting += 1
            if v.status == ACTIVATED and status == "active_ongoing":
                candidates.append(v.validator_id)
        vault = await self._vault_income(ref_slot) if validators else 0
        pool = self.system.lst.pool
        deposited = max(deposited, pool.beacon_deposited_ether())
        return Report(
            ref_slot=ref_slot,
            beacon_balance=balance,
            beacon_deposited=deposited,
            active_validators=active,
            exited_validators=max(
                exited, int(self.system.oracle.contract.call("last_exited_validators"))
            ),
            vault_balance=vault,
            confirmed=tuple(confirmed),
            rejected=tuple(rejected),
            to_exit=self._to_exit(candidates, exiting, vault),
            withdrawn=tuple(withdrawn),
            performance=await self._performance(ref_slot, validators),
            pod_validators=tuple(pod_validators),
            pod_balances=tuple(pod_balances),
        )

    def _to_exit(self, candidates: list[int], exiting: int, vault: int) -> tuple[int, ...]:
        """Keys to exit so that the WithdrawalQueue can be paid (DESIGN.md §3)."""
        unfinalized = self.system.lst.queue.unfinalized_ether()
        available = self.system.lst.pool.buffered_ether() + vault + exiting * VALIDATOR_ETHER
        gap = unfinalized - available
        if gap <= 0:
            return ()
        count = -(-gap // VALIDATOR_ETHER)
        return tuple(candidates[:count])

    async def _performance(self, ref_slot: int, validators: list[ProtocolValidator]) -> tuple:
        """(operator_id << 32 | missed epochs) for every operator holding active key shares."""
        holders = [v for v in validators if v.status in (ACTIVATED, EXITING)]
        missed = {op: 0 for v in holders for op in v.operator_ids}
        watched = [v for v in holders if v.status == ACTIVATED]
        epochs = int(self.system.oracle.contract.call("epochs_per_frame"))
        boundaries = [ref_slot - k * self.slots_per_epoch for k in range(epochs, -1, -1)]
        if watched and boundaries[0] >= 0:
            keys = [v.pubkey for v in watched]
            series = [await self._balances(slot, keys) for slot in boundaries]
            for (start, before), (end, after) in itertools.pairwise(
                zip(boundaries, series, strict=True)
            ):
                paid = await self._withdrawn(start + 1, end)
                if before is None or after is None or paid is None:
                    continue  # states or blocks no longer served: count nothing
                for v in watched:
                    if v.pubkey not in before or v.pubkey not in after:
                        continue
                    index, balance = after[v.pubkey]
                    if balance + paid.get(index, 0) < before[v.pubkey][1]:
                        for op in v.operator_ids:
                            missed[op] += 1
        return tuple((op << 32) | count for op, count in sorted(missed.items()))


class OracleReporter:
    """One node's oracle member: votes in every seat it holds, submits when designated."""

    def __init__(
        self,
        system: DivaSystem,
        client: BeaconClient,
        node_key: NodeKey,
        *,
        account: LocalAccount | None = None,
        poll_interval: float = 1.0,
        submit_stagger: float = 2.0,
    ) -> None:
        self.system = system
        self.oracle = system.oracle
        self.builder = ReportBuilder(system, client)
        self.client = client
        self.address = "0x" + node_key.address.hex()
        self.account = account or Account.from_key(node_key.secret)
        self.poll_interval = poll_interval
        self.submit_stagger = submit_stagger
        self.operator_id = self._find_operator_id()
        self.reports: dict[int, Report] = {}
        self.voted: set[tuple[int, int]] = set()  # (ref slot, operator id or 0 for committee)
        self.submitted: list[int] = []
        self._consensus_seen: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def _find_operator_id(self) -> int:
        operators = self.system.operators
        for operator_id in range(1, operators.operator_count() + 1):
            if operators.info(operator_id).node.lower() == self.address:
                return operator_id
        return 0

    def seats(self) -> list[int]:
        """The seats this node votes in now: 0 = governed committee, else its operator id."""
        out = []
        if self.oracle.contract.call("is_member", self.address):
            out.append(0)
        if self.operator_id == 0:
            self.operator_id = self._find_operator_id()
        if self.operator_id and self.system.operators.contract.call(
            "is_oracle_member", self.operator_id, self.address
        ):
            out.append(self.operator_id)
        return out

    def _in_frame(self, ref_slot: int, head: int) -> bool:
        """The beacon head has reached the ref slot, and is not so far past it (> 2 frames:
        only a fast-forwarded devnet, or a stalled EVM clock) that its state would be an
        expensive historical one."""
        frame = int(self.oracle.contract.call("epochs_per_frame")) * self.builder.slots_per_epoch
        return ref_slot <= head <= ref_slot + 2 * frame

    async def _head_slot(self) -> int:
        return int((await self.client.block_header("head")).header.message.slot)

    async def step(self) -> None:
        """One pass: vote for the current frame if not done, submit if agreed and due."""
        try:
            ref_slot = self.oracle.current_ref_slot()
        except TransactionReverted:
            return  # the first frame has no report
        seats = [s for s in self.seats() if (ref_slot, s) not in self.voted]
        if seats and self._in_frame(ref_slot, await self._head_slot()):
            report = self.reports.get(ref_slot)
            if report is None:
                report = self.reports[ref_slot] = await self.builder.build(ref_slot)
                for old in sorted(self.reports)[:-KEPT_FRAMES]:  # bounded memory
                    del self.reports[old]
                self.voted = {v for v in self.voted if v[0] in self.reports}
            for seat in seats:
                try:
                    self.oracle.vote(self.account, report, seat)
                    log.info(
                        "voted for ref slot %d (seat %d): 0x%s", ref_slot, seat, report.hash().hex()
                    )
                except TransactionReverted as exc:
                    log.info("vote for ref slot %d (seat %d) refused: %s", ref_slot, seat, exc)
                self.voted.add((ref_slot, seat))
        await self._maybe_submit(ref_slot)

    async def _maybe_submit(self, ref_slot: int) -> None:
        agreed_ref, agreed_hash, applied = self.oracle.contract.call("consensus")
        report = self.reports.get(ref_slot)
        if (
            applied
            or agreed_ref != ref_slot
            or report is None
            or bytes(agreed_hash) != report.hash()
        ):
            return
        loop = asyncio.get_running_loop()
        first_seen = self._consensus_seen.setdefault(ref_slot, loop.time())
        if loop.time() < first_seen + self._rank(ref_slot, report) * self.submit_stagger:
            return
        try:
            self.oracle.submit(self.account, report)
            self.submitted.append(ref_slot)
            log.info("submitted the report for ref slot %d", ref_slot)
        except TransactionReverted as exc:
            log.info("report for ref slot %d not submitted: %s", ref_slot, exc)

    def _rank(self, ref_slot: int, report: Report) -> int:
        """Position of this node among the members that voted for the agreed hash."""
        voters = sorted(
            {
                str(e["member"]).lower()
                for e in self.oracle.contract.events("Voted")
                if int(e["ref_slot"]) == ref_slot and bytes(e["report_hash"]) == report.hash()
            }
        )
        return voters.index(self.address) if self.address in voters else len(voters)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except (ChainError, BeaconAPIError) as exc:
                log.warning("oracle step failed (%s); retrying", exc)
            await asyncio.sleep(self.poll_interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

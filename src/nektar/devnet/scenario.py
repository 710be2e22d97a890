"""The base-layer scenario on the live network (`nektar demo --network`).

Chapters, in order; each one ends with a check that raises `DevnetError` naming what failed:

1. stakers deposit 96 ETH; three validators are proposed;
2. DKG: one call, `register_validators`. The nodes' DKG engine does it when they run it (they
   acknowledge on chain first); otherwise the orchestrator runs the same DKG for the cluster
   (`play_cluster`: in-memory `nektar.crypto.dkg`, threshold deposit signature, EIP-712 node
   signatures), registers, writes each node's share and cluster definition, and restarts the
   nodes. Either way the chapter waits for `ValidatorRegistered` (the 1 ETH deposits);
3. the oracle confirms the credentials it sees on the beacon chain; the 31 ETH follow;
4. the validators become active and attest and propose for several epochs;
5. the oracle reports rewards: the divETH rate rises and operators are credited their 10%;
6. one node is killed: the validators keep attesting; it restarts and catches up;
7. a withdrawal request the buffer cannot pay makes the oracle name a validator to exit; its
   cluster signs the voluntary exit; the beacon chain pays the vault; the staker claims;
8. restaking on the same chain (`restaking_demo`): restake and delegate, a distributor over
   three operators, a network's rewards claimed by all, a vetoed slash and an equivocation;
9. native restaking: a NativePod funded with 32 ETH before chapter 7 (its validator's DKG,
   registration and confirmation run during the withdrawal), whose validator the nodes make
   with the pod's credentials; the oracle's report mints and restakes its nETH.

`Progress` is what the live view shows; `Monitor` refreshes its beacon and node parts.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from nektar.chain.diva_ops import ProposedValidator, play_cluster
from nektar.chain.errors import TransactionReverted
from nektar.devnet.committee import (
    EXITING,
    REGISTERED,
    WITHDRAWN,
    OracleCommittee,
    ProtocolValidator,
    enroll_node_reporters,
    registered,
)
from nektar.devnet.network import ETH, Network, Operator, post_json
from nektar.devnet.processes import DevnetError, wait_for
from nektar.devnet.restaking_demo import BalanceSheet, RestakingDemo
from nektar.stinger.datadir import ClusterDefinition, DataDir, Member, write_definition

STAKES = (("alice", 50 * ETH), ("bob", 30 * ETH), ("carol", 16 * ETH))
VALIDATORS = 3
ACK_WAIT_S = 5.0  # nodes running the DKG engine acknowledge within a few polls
WITHDRAWAL_REQUEST = 20 * ETH
SHARE_KDF = {"kdf": "pbkdf2", "kdf_params": {"c": 1024}}


@dataclass
class Chapter:
    title: str
    state: str = "pending"  # pending, running, done, failed
    detail: str = ""
    started: float = 0.0
    elapsed: float = 0.0


@dataclass
class Progress:
    """Everything the live view and the summary show; written by the scenario and Monitor."""

    chapters: list[Chapter]
    events: list[str] = field(default_factory=list)
    slot: int = 0
    finalized_epoch: int = 0
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[int, dict[str, Any]] = field(default_factory=dict)
    rate: Fraction = Fraction(1)
    rate_start: Fraction = Fraction(1)
    operator_rewards: dict[int, int] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    dkg_by: str = ""
    balances: BalanceSheet | None = None  # the restaking chapters' balances per stage

    def log(self, line: str) -> None:
        self.events.append(f"slot {self.slot}: {line}")
        del self.events[:-12]


CHAPTERS = (
    "network up",
    "stakers deposit 96 ETH, 3 validators proposed",
    "DKG → ValidatorRegistered (1 ETH deposits)",
    "oracle confirms credentials, 31 ETH deposits",
    "validators active",
    "attest and propose for several epochs",
    "oracle reports rewards",
    "one node killed, validators keep attesting",
    "node restarted, catches up",
    "withdrawal: exit, ETH back to the staker",
    "restaking: restake + delegate, distributor over 3 operators",
    "network: opt-in, allocation, rewards funded and claimed",
    "slashing: vetoed request, equivocation proof (BLS)",
    "native restaking: a pod's validator by DKG, nETH restaked",
)


def new_progress() -> Progress:
    return Progress([Chapter(title) for title in CHAPTERS])


class Monitor:
    """Polls the beacon chain, the nodes' status endpoints and the rate once a second."""

    def __init__(self, net: Network, progress: Progress) -> None:
        self.net, self.progress = net, progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a failed read is retried next second
                self.poll()
            self._stop.wait(1.0)

    def poll(self) -> None:
        p, net = self.progress, self.net
        p.slot = net.head_slot()
        checkpoints = net.beacon_get("/eth/v1/beacon/states/head/finality_checkpoints")
        p.finalized_epoch = int(checkpoints["finalized"]["epoch"])
        for op in net.operators:
            p.nodes[op.name] = node_summary(op)
        validators = registered(net.system)
        beacon = net.beacon_validators([v.pubkey for v in validators])
        for v in validators:
            entry = beacon.get(v.pubkey)
            p.validators[v.validator_id] = {
                "pubkey": v.pubkey,
                "registry": net.system.validators.validator(v.validator_id).status_name,
                "beacon": entry["status"] if entry else "not yet deposited",
                "index": int(entry["index"]) if entry else None,
                "balance": int(entry["balance"]) if entry else 0,
            }
        p.rate = net.system.lst.rate()
        for op in net.operators:
            p.operator_rewards[op.index] = net.system.operators.reward_shares(op.operator_id)


def node_summary(op: Operator) -> dict[str, Any]:
    """Up/down, slot, peers and duty outcomes (from the node's own status endpoint)."""
    alive = op.child is not None and op.child.alive()
    status = op.status() if alive else None
    if status is None:
        return {"up": alive, "slot": None, "peers": 0, "validators": 0, "duties": {}}
    duties: dict[str, list[int]] = {}
    for outcome in status.get("recent_duties", []):
        name = str(outcome.get("duty", "?")).split("@")[0]
        counts = duties.setdefault(name, [0, 0])
        counts[0 if outcome.get("ok") else 1] += 1
    return {
        "up": True,
        "slot": status.get("slot"),
        "peers": len(status.get("peers", [])),
        "validators": len(status.get("validators", [])),
        "duties": duties,
    }


class Scenario:
    """Runs the chapters on a started network; `progress` is updated as it goes."""

    def __init__(self, net: Network, progress: Progress) -> None:
        self.net = net
        self.progress = progress
        self.system = net.system
        self.backend = net.backend
        self.committee: OracleCommittee | None = None  # None: the nodes report
        self.stakers = {name: self.backend.new_account(amount + ETH) for name, amount in STAKES}
        self.proposals: list[ProposedValidator] = []
        accounts = [op.account for op in net.operators]
        self.restaking = RestakingDemo(self.backend, self.system, net.admin, accounts, progress.log)
        progress.balances = self.restaking.sheet
        self.pod_validators: list[int] = []

    # ------------------------------------------------------------------ helpers
    def chapter(self, index: int, run: Callable[[Chapter], None], end: bool = True) -> None:
        """Run one chapter; with `end=False` it stays running (a later call finishes it and
        its time counts from its first start)."""
        chapter = self.progress.chapters[index]
        if chapter.state != "running":
            chapter.state, chapter.started = "running", time.monotonic()
        try:
            run(chapter)
        except BaseException:
            chapter.state = "failed"
            raise
        finally:
            chapter.elapsed = time.monotonic() - chapter.started
        if end:
            chapter.state = "done"

    def wait(self, condition: Callable[[], object], timeout: float, what: str) -> object:
        return wait_for(condition, timeout, what, interval=0.25, check=self.net.check_processes)

    def epochs(self, count: int) -> float:
        t = self.net.settings.timing
        return count * t.slots_per_epoch * t.seconds_per_slot

    def wait_epoch(self, epoch: int) -> None:
        self.wait(
            lambda: self.net.epoch_of(self.net.wall_slot()) >= epoch,
            self.epochs(epoch - self.net.epoch_of(self.net.wall_slot()) + 2),
            f"epoch {epoch}",
        )

    def current_epoch(self) -> int:
        return self.net.epoch_of(self.net.wall_slot())

    def oracle_report(self, what: str) -> None:
        """The next report: the nodes' (waited for), or the orchestrator committee's, made in
        the next frame without one (again in the next frame if this one closed while the
        members voted: frames last one devnet epoch)."""
        if self.committee is None:
            applied = self.system.oracle.contract
            seen = len(applied.events("ReportApplied", 0))
            self.wait(
                lambda: len(applied.events("ReportApplied", 0)) > seen,
                self.epochs(4),
                f"the nodes' oracle report for {what}",
            )
            self.progress.log(f"the nodes' oracle report applied ({what})")
            return
        committee = self.committee
        for attempt in range(3):
            self.wait(committee.frame_open, self.epochs(3), f"an oracle frame for {what}")
            try:
                report, receipt = committee.report()
                break
            except TransactionReverted as exc:
                if "stale ref slot" not in str(exc) or attempt == 2:
                    raise DevnetError(f"oracle report for {what}: {exc}") from None
        fee = receipt.event("ReportApplied")["fee_shares"]
        self.progress.log(
            f"oracle report @slot {report.ref_slot}: balance "
            f"{report.beacon_balance / ETH:.6f} ETH, confirmed {list(report.confirmed)}, "
            f"exit {list(report.to_exit)}, withdrawn {list(report.withdrawn)}, fee shares {fee}"
        )

    def balances(self) -> dict[int, int]:
        validators = registered(self.system)
        beacon = self.net.beacon_validators([v.pubkey for v in validators])
        return {
            v.validator_id: int(beacon[v.pubkey]["balance"])
            for v in validators
            if v.pubkey in beacon
        }

    # ------------------------------------------------------------------ chapters
    def run(self) -> None:
        self.chapter(1, self.stake_and_propose)
        self.chapter(2, self.register_validators)
        self.chapter(3, self.confirm_and_top_up)
        self.chapter(4, self.wait_active)
        self.chapter(5, self.attest_and_propose)
        self.chapter(6, self.reward_report)
        self.chapter(7, self.node_down)
        self.chapter(8, self.node_restart)
        self.chapter(13, self.fund_pod, end=False)  # its DKG runs during the withdrawal
        self.chapter(9, self.withdrawal)
        for index, step in enumerate(
            (self.restaking.restake, self.restaking.network_rewards, self.restaking.slashing)
        ):
            self.chapter(10 + index, shown(step))
        self.chapter(13, self.native_restaking)

    def fund_pod(self, chapter: Chapter) -> None:
        """Deploy the upper layer and native restaking; the native restaker funds its pod."""
        self.restaking.deploy()
        self.pod_validators = self.restaking.fund_pod()
        chapter.detail = f"pod funded, validators {self.pod_validators}: DKG by the nodes"

    def native_restaking(self, chapter: Chapter) -> None:
        """The pod's validators, made by the nodes' DKG with the pod's credentials, reach
        the beacon chain; the oracle reports them; the pod mints and restakes nETH."""
        demo, ids = self.restaking, self.pod_validators
        if self.committee is not None:
            raise DevnetError("native restaking needs the nodes' DKG engine and oracle")

        def pubkeys() -> list[bytes]:
            return [v.pubkey for v in registered(self.system) if v.validator_id in ids]

        self.wait(lambda: len(pubkeys()) == len(ids), 90, f"ValidatorRegistered for pod {ids}")
        chapter.detail = "the 1 ETH deposits with the pod's credentials on the beacon chain"
        keys = pubkeys()
        self.wait(
            lambda: len(self.net.beacon_validators(keys)) == len(keys),
            self.epochs(8),
            f"the beacon chain to show the pod's validators {ids}",
        )
        credentials = "0x" + demo.pod_credentials().hex()
        for pubkey, entry in self.net.beacon_validators(keys).items():
            found = entry["validator"]["withdrawal_credentials"]
            if found != credentials:
                raise DevnetError(f"0x{pubkey.hex()[:12]}… has credentials {found}")
        chapter.detail = "oracle confirms, 31 ETH, the pod's balance reported → nETH"
        try:
            self.wait(
                lambda: demo.pod_minted() >= len(ids) * 32 * ETH - ETH // 100,
                self.epochs(15),
                "the oracle to report the pod's 32 ETH validators (nETH minted)",
            )
        except DevnetError as exc:
            raise DevnetError(f"{exc}; pod: {demo.pod_state()}") from None
        beacon = self.net.beacon_validators(keys)
        chapter.detail = demo.check_pod(sum(int(e["balance"]) for e in beacon.values()) * 10**9)
        states = sorted({e["status"] for e in beacon.values()})
        self.progress.figures["pod validators on the beacon chain"] = ", ".join(states)

    def stake_and_propose(self, chapter: Chapter) -> None:
        pool = self.system.lst.pool
        for name, amount in STAKES:
            pool.deposit(self.stakers[name], amount)
            self.progress.log(f"{name} deposits {amount / ETH:.0f} ETH → divETH")
        for _ in range(VALIDATORS):
            proposal = self.system.validators.propose(self.net.admin)
            self.proposals.append(proposal)
            self.progress.log(
                f"validator {proposal.validator_id} proposed to operators "
                f"{list(proposal.operator_ids)} (n={proposal.n}, t={proposal.t})"
            )
        chapter.detail = f"buffer {pool.buffered_ether() / ETH:.0f} ETH, {VALIDATORS} proposed"

    def register_validators(self, chapter: Chapter) -> None:
        """The DKG step: by the nodes' engine if they acknowledge, else by the orchestrator."""
        ids = [p.validator_id for p in self.proposals]
        chapter.detail = "waiting for the nodes to acknowledge (DkgAcknowledged)"
        registry = self.system.validators.contract
        deadline = time.monotonic() + ACK_WAIT_S
        while time.monotonic() < deadline and not registry.events("DkgAcknowledged", 0):
            time.sleep(0.5)
        if registry.events("DkgAcknowledged", 0):
            self.progress.dkg_by = "the nodes' DKG engine"
            enroll_node_reporters(self.net)
        else:
            self.progress.dkg_by = "the orchestrator (nodes run no DKG engine yet)"
            self.committee = OracleCommittee(self.net)
            self.progress.log("no DkgAcknowledged: the orchestrator runs the clusters' DKG")
            for proposal in self.proposals:
                self._harness_dkg(proposal)
            self.net.restart_nodes(self.net.operators)
        chapter.detail = f"waiting for ValidatorRegistered {ids} (DKG by {self.progress.dkg_by})"

        def all_registered() -> bool:
            done = {v.validator_id for v in registered(self.system)}
            return all(i in done for i in ids)

        self.wait(all_registered, 90, f"ValidatorRegistered for validators {ids}")
        in_transit = self.system.lst.pool.in_transit_ether()
        chapter.detail = f"{len(ids)} registered by {self.progress.dkg_by}; in transit " + (
            f"{in_transit / ETH:.0f} ETH"
        )

    def _harness_dkg(self, proposal: ProposedValidator) -> None:
        by_address = {op.address: op for op in self.net.operators}
        members = [by_address[node.lower()] for node in proposal.nodes]
        registration = play_cluster(
            self.backend.chain_id,
            self.system.validators.address,
            proposal.validator_id,
            [op.key for op in members],
            self.system.validators.withdrawal_credentials(),
            self.net.genesis_fork_version(),
        )
        self.system.validators.register(self.net.admin, registration)
        cluster = [Member(address=op.address, port=op.p2p_port) for op in members]
        for index, op in enumerate(members, start=1):
            datadir = DataDir(op.datadir)
            datadir.write_share(registration.pubkey, registration.secret_shares[index], **SHARE_KDF)
            write_definition(
                datadir,
                ClusterDefinition(
                    group_pubkey="0x" + registration.pubkey.hex(),
                    threshold=proposal.t,
                    members=cluster,
                    public_shares=["0x" + s.hex() for s in registration.public_shares],
                    my_index=index,
                ),
            )
        self.progress.log(f"validator {proposal.validator_id}: DKG done, registered")

    def confirm_and_top_up(self, chapter: Chapter) -> None:
        validators = registered(self.system)
        pubkeys = [v.pubkey for v in validators]
        chapter.detail = "waiting for the 1 ETH deposits on the beacon chain"
        self.wait(
            lambda: len(self.net.beacon_validators(pubkeys)) == len(pubkeys),
            self.epochs(8),
            "the beacon chain to process the 1 ETH deposits",
        )
        chapter.detail = "oracle confirmation"
        registry = self.system.validators
        while not all(registry.validator(v.validator_id).confirmed for v in validators):
            self.oracle_report("the credentials confirmation")
        for v in validators:  # the nodes' lifecycle service may have been first: fine
            if registry.validator(v.validator_id).status == REGISTERED:
                with contextlib.suppress(TransactionReverted):
                    registry.contract.transact(
                        "activate",
                        v.validator_id,
                        v.pubkey,
                        v.deposit_signature,
                        sender=self.net.admin,
                    )
        self.wait(
            lambda: all(registry.validator(v.validator_id).status > REGISTERED for v in validators),
            self.epochs(3),
            "the 31 ETH deposits (activate)",
        )
        self.progress.log(f"31 ETH deposits for validators {[v.validator_id for v in validators]}")
        chapter.detail = f"{len(validators)} confirmed and topped up to 32 ETH"

    def wait_active(self, chapter: Chapter) -> None:
        pubkeys = [v.pubkey for v in registered(self.system)]

        def active() -> bool:
            entries = self.net.beacon_validators(pubkeys).values()
            return len(entries) == len(pubkeys) and all(
                e["status"] == "active_ongoing" for e in entries
            )

        chapter.detail = "deposit processing, eligibility, activation queue"
        self.wait(active, self.epochs(14), "the three validators to become active")
        self.active_epoch = self.current_epoch()
        chapter.detail = f"active from epoch {self.active_epoch}"

    def run_epochs(self, epochs: int) -> tuple[list[str], int, dict[int, int]]:
        """Run the next `epochs` whole epochs and read the outcome: (attestations missed, as
        "v<id>@<epoch>", gwei earned, end balances). Inclusion is read from blocks (duty slot
        and committee, then the validator's aggregation bit; duties are asked while their
        epoch is current, as the Beacon API requires). Earnings = Δ vault + Σ Δ balances:
        rewards above 32 ETH are swept to the WithdrawalVault, penalties are never swept."""
        validators = registered(self.system)
        beacon = self.net.beacon_validators([v.pubkey for v in validators])
        indices = {v.validator_id: int(beacon[v.pubkey]["index"]) for v in validators}
        vault = self.system.lst.vault.address
        start_vault, start = self.backend.balance_of(vault), self.balances()
        first = self.current_epoch() + 1
        duties = {}
        for epoch in range(first, first + epochs):
            self.wait_epoch(epoch)
            for vid, index in indices.items():
                duties[f"v{vid}@{epoch}"] = self.net.attester_duty(index, epoch)
        self.wait_epoch(first + epochs + 1)  # the last duties' inclusion window has passed
        time.sleep(self.net.settings.timing.seconds_per_slot)
        missed = [
            name
            for name, duty in duties.items()
            if duty is None or not self.net.attestation_included(duty)
        ]
        end_vault, end = self.backend.balance_of(vault), self.balances()
        earned = (end_vault - start_vault) // 10**9 + sum(end[i] - start[i] for i in start)
        return missed, earned, end

    def check_attesting(self, chapter: Chapter, epochs: int, situation: str) -> None:
        missed, earned, end = self.run_epochs(epochs)
        total = epochs * len(end)
        chapter.detail = (
            f"{situation}: {total - len(missed)}/{total} attestations included over {epochs} "
            f"epochs, earned {earned:,} gwei"
        )
        self.progress.figures[f"attestations included, {situation}"] = (
            f"{total - len(missed)}/{total}"
        )
        self.progress.figures[f"earned over {epochs} epochs, {situation} (gwei)"] = f"{earned:,}"
        if missed or earned <= 0:
            raise DevnetError(
                f"with {situation}: attestations missed {missed}, earned {earned} gwei"
            )

    def attest_and_propose(self, chapter: Chapter) -> None:
        # the first active epoch may be missed: nodes learn a new validator's index per epoch
        self.wait_epoch(self.active_epoch + 1)
        self.check_attesting(chapter, 3, "all nodes up")
        proposals = sum(n["duties"].get("proposer", [0])[0] for n in self.progress.nodes.values())
        self.progress.figures["proposer duties done (recent, all nodes)"] = str(proposals)

    def reward_report(self, chapter: Chapter) -> None:
        before = self.system.lst.rate()
        self.oracle_report("the rewards")
        after = self.system.lst.rate()
        credited = {
            op.index: self.system.operators.reward_shares(op.operator_id)
            for op in self.net.operators
        }
        chapter.detail = (
            f"rate {float(before):.9f} → {float(after):.9f}; operator shares {credited}"
        )
        if after <= before:
            raise DevnetError(f"the divETH rate did not rise ({before} → {after})")
        if not all(credited.values()):
            raise DevnetError(f"not every operator was credited its reward: {credited}")

    def node_down(self, chapter: Chapter) -> None:
        victim = self.net.operators[-1]
        assert victim.child is not None
        victim.child.kill()
        self.progress.log(f"{victim.name} killed (SIGKILL)")
        self.check_attesting(chapter, 2, f"{victim.name} down")

    def node_restart(self, chapter: Chapter) -> None:
        victim = self.net.operators[-1]
        self.net.spawn(victim)
        self.net.wait_nodes_ready([victim])
        self.progress.log(f"{victim.name} restarted from its data directory")

        def attested() -> bool:
            status = victim.status() or {}
            return any(
                str(d.get("duty", "")).startswith("attester") and d.get("ok")
                for d in status.get("recent_duties", [])
            )

        self.wait(attested, self.epochs(3), f"{victim.name} to complete an attestation")
        slashings = [
            item
            for pool in (
                "/eth/v2/beacon/pool/attester_slashings",
                "/eth/v1/beacon/pool/proposer_slashings",
            )
            for item in self.net.beacon_get(pool)
        ]
        if slashings:
            raise DevnetError(f"slashable messages reached the beacon chain: {slashings}")
        slot = (victim.status() or {}).get("slot")
        chapter.detail = f"{victim.name} attesting again at slot {slot}; no slashing in the pools"

    def withdrawal(self, chapter: Chapter) -> None:
        alice = self.stakers["alice"]
        queue = self.system.lst.queue
        receipt = queue.request_withdrawals(alice, [WITHDRAWAL_REQUEST])
        (request_id,) = queue.request_ids(receipt)
        self.progress.log(f"alice requests {WITHDRAWAL_REQUEST / ETH:.0f} ETH (#{request_id})")
        registry = self.system.validators
        chapter.detail = "oracle names a validator to exit"
        exiting: list[ProtocolValidator] = []
        for _ in range(3):  # a report voted on before the request cannot name the exit yet
            self.oracle_report("the exit request")
            exiting = [
                v
                for v in registered(self.system)
                if registry.validator(v.validator_id).status == EXITING
            ]
            if exiting:
                break
        if not exiting:
            raise DevnetError("three oracle reports after the request named no exit")
        target = exiting[0]
        chapter.detail = f"cluster signs the voluntary exit of validator {target.validator_id}"
        # the nodes' lifecycle service (when they run it) reacts to ExitRequested by itself,
        # member by member; asking every node at once combines the partials without waiting
        # for its retries (the same VoluntaryExit message: the extra signing is harmless)
        self._sign_exit(target.pubkey)
        chapter.detail = f"validator {target.validator_id} exiting; waiting for its withdrawal"
        self.progress.log(f"validator {target.validator_id}: ExitRequested")
        self.wait(
            lambda: (
                self.net.beacon_validators([target.pubkey])[target.pubkey]["status"]
                == "withdrawal_done"
            ),
            # exit epoch (+1 + seed lookahead), withdrawability delay, then the sweep: ~8 epochs
            # when every slot has a block; margin for missed proposals while the pod's DKG runs
            self.epochs(16),
            f"validator {target.validator_id} to be withdrawn on the beacon chain",
        )
        vault = self.backend.balance_of(self.system.lst.vault.address)
        self.progress.log(f"beacon chain paid {vault / ETH:.6f} ETH to the WithdrawalVault")
        while registry.validator(target.validator_id).status != WITHDRAWN:
            self.oracle_report("the withdrawal")
        self.wait(lambda: queue.last_finalized_id() >= request_id, self.epochs(4), "finalization")
        before = self.backend.balance_of(alice.address)
        queue.claim(alice, request_id)
        received = self.backend.balance_of(alice.address) - before
        self.progress.figures["alice received"] = f"{received / ETH:.6f} ETH"
        chapter.detail = f"alice claimed {received / ETH:.6f} ETH"
        if received < WITHDRAWAL_REQUEST:
            raise DevnetError(f"alice received {received} wei for {WITHDRAWAL_REQUEST}")

    def _sign_exit(self, pubkey: bytes) -> None:
        """Ask every running node of the cluster to sign its share of the exit (`POST /exit`,
        what `stinger exit` does); t partials combine into the signed voluntary exit."""
        errors: list[str] = []

        def ask(op: Operator) -> None:
            url = op.api_url()
            if url is None:
                return
            try:
                post_json(url + "/exit", {"pubkey": "0x" + pubkey.hex(), "timeout": 30}, 40)
            except (DevnetError, OSError) as exc:
                errors.append(f"{op.name}: {exc}")

        threads = [threading.Thread(target=ask, args=(op,)) for op in self.net.operators]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(45)
        if len(errors) > len(self.net.operators) - 3:
            raise DevnetError("the cluster did not sign the exit: " + "; ".join(errors))


def shown(step: Callable[[], str]) -> Callable[[Chapter], None]:
    """A chapter whose detail is what `step` returns."""

    def run(chapter: Chapter) -> None:
        chapter.detail = step()

    return run

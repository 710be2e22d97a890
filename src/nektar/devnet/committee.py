"""The devnet's oracle committee: three member accounts that compute each frame's report from
the Beacon API and the chain, vote for its hash and submit it.

It stands in for the Stinger nodes' oracle reporter when the nodes do not run it (then
`enroll_node_reporters` makes the nodes the committee instead); the report is computed from
real beacon-chain data, never made up:

- `beacon_balance`: the protocol validators' balances on the beacon chain;
- `beacon_deposited`: 1 ETH per validator the beacon chain knows, 32 once its top-up shows
  (balance above the ejection balance, or the validator is past pending);
- `confirmed`: REGISTERED validators the beacon chain shows with the protocol's credentials;
- `to_exit`: the fewest ACTIVATED validators whose 32 ETH cover the withdrawal requests the
  buffer and the vault cannot pay;
- `withdrawn`: EXITING validators the beacon chain shows as `withdrawal_done`;
- `vault_balance`: the WithdrawalVault's ETH; `performance`: one entry per operator with
  active key shares and 0 missed duties (per-operator misses need the nodes' own view).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from nektar.chain.diva_ops import DivaSystem, Report
from nektar.chain.types import Receipt
from nektar.devnet.network import ETH, Network

GWEI = 10**9
REGISTERED, ACTIVATED, EXITING, WITHDRAWN = 2, 3, 4, 5
EJECTION_GWEI = 16 * GWEI


@dataclass(frozen=True)
class ProtocolValidator:
    validator_id: int
    pubkey: bytes
    deposit_signature: bytes


def registered(system: DivaSystem) -> list[ProtocolValidator]:
    """Every validator registered so far (from the `ValidatorRegistered` events)."""
    return [
        ProtocolValidator(int(e["validator_id"]), bytes(e["pubkey"]), bytes(e["deposit_signature"]))
        for e in system.validators.contract.events("ValidatorRegistered", 0)
    ]


def enroll_node_reporters(net: Network) -> None:
    """Make the nodes the governed oracle committee (when they run their oracle reporter):
    before any validator is active no operator has an operator seat, yet credentials must be
    confirmed."""
    for op in net.operators:
        net.system.oracle.add_member(net.admin, op.address)


class OracleCommittee:
    """Votes and submits one report per frame for the devnet."""

    def __init__(self, net: Network, size: int = 3) -> None:
        self.net = net
        self.system = net.system
        self.members: list[LocalAccount] = [net.backend.new_account(ETH) for _ in range(size)]
        oracle = self.system.oracle
        for member in self.members:
            oracle.add_member(net.admin, member.address)
        # the committee alone is the oracle set until the nodes run their reporter
        oracle.set_parameters(
            net.admin,
            int(oracle.contract.call("epochs_per_frame")),
            int(oracle.contract.call("penalty_per_missed_duty")),
            operators_vote=False,
        )

    def frame_open(self) -> bool:
        """A frame whose report has not been applied yet has started (by the chain's clock,
        which the devnet keeps on wall time with a block each slot)."""
        try:
            ref = self.system.oracle.current_ref_slot()
        except Exception:  # before genesis or in the first frame: nothing to report
            return False
        applied = self.system.oracle.contract.events("ReportApplied", 0)
        return not any(int(e["ref_slot"]) == ref for e in applied)

    # ------------------------------------------------------------------ the report
    def build(self) -> Report:
        validators = registered(self.system)
        registry = self.system.validators
        info = {v.validator_id: registry.validator(v.validator_id) for v in validators}
        beacon = self.net.beacon_validators([v.pubkey for v in validators])
        credentials = registry.withdrawal_credentials()
        balance = deposited = 0
        confirmed, withdrawn, active_ids = [], [], []
        for v in validators:
            status = info[v.validator_id]
            entry = beacon.get(v.pubkey)
            if entry is None:
                continue
            gwei = int(entry["balance"])
            balance += gwei * GWEI
            topped_up = gwei > EJECTION_GWEI or not entry["status"].startswith("pending")
            deposited += 32 * ETH if topped_up and status.status >= ACTIVATED else ETH
            ours = entry["validator"]["withdrawal_credentials"] == "0x" + credentials.hex()
            if status.status == REGISTERED and not status.confirmed and ours:
                confirmed.append(v.validator_id)
            if status.status == EXITING and entry["status"] == "withdrawal_done":
                withdrawn.append(v.validator_id)
            if status.status in (ACTIVATED, EXITING):
                active_ids.append(v.validator_id)
        exited = sum(1 for s in info.values() if s.status == WITHDRAWN) + len(withdrawn)
        return Report(
            ref_slot=self.system.oracle.current_ref_slot(),
            beacon_balance=balance,
            beacon_deposited=max(deposited, self.system.lst.pool.beacon_deposited_ether()),
            active_validators=len(active_ids) - len(withdrawn),
            exited_validators=exited,
            vault_balance=self.net.backend.balance_of(self.system.lst.vault.address),
            confirmed=tuple(confirmed),
            withdrawn=tuple(withdrawn),
            to_exit=self._to_exit(info),
            performance=self._performance(info),
        )

    def _to_exit(self, info: dict) -> tuple[int, ...]:  # type: ignore[type-arg]
        lst = self.system.lst
        vault = self.net.backend.balance_of(lst.vault.address)
        exiting = sum(1 for s in info.values() if s.status == EXITING)
        short = lst.queue.unfinalized_ether() - lst.pool.buffered_ether() - vault
        short -= 32 * ETH * exiting
        chosen: list[int] = []
        for validator_id, status in sorted(info.items()):
            if short <= 0:
                break
            if status.status == ACTIVATED:
                chosen.append(validator_id)
                short -= 32 * ETH
        return tuple(chosen)

    def _performance(self, info: dict) -> tuple[int, ...]:  # type: ignore[type-arg]
        operators = sorted(
            {i for s in info.values() if s.status in (ACTIVATED, EXITING) for i in s.operator_ids}
        )
        return tuple(operator_id << 32 for operator_id in operators)

    def report(self) -> tuple[Report, Receipt]:
        """Build this frame's report, vote with every member, submit it."""
        report = self.build()
        for member in self.members:
            self.system.oracle.vote(member, report)
        return report, self.system.oracle.submit(self.members[0], report)

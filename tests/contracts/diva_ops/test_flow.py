"""The lifecycle end to end: operators bond, a validator is proposed, the cluster registers
with real BLS (in-memory DKG) and EIP-712 node signatures, 1 ETH pre-deposit, oracle
confirmation, 31 ETH, a report with rewards split among operators, an exit and withdrawal."""

from __future__ import annotations

import boa

from nektar.chain.selection import Performance, select, split_rewards
from nektar.crypto.signing import deposit_data_root

from .conftest import ACTIVATED, ETHER, EXITING, PROPOSED, REGISTERED, WITHDRAWN, Ops

DAY = 86_400


def test_full_lifecycle(cluster_ready: Ops) -> None:
    ops = cluster_ready
    before = ops.slots()
    vid = ops.propose()
    proposed = ops.validators.get_logs()[-1]
    assert vid == 1 and ops.status(vid) == PROPOSED
    members = list(proposed.operator_ids)
    assert members == select(bytes(proposed.seed), 4, before)
    assert list(proposed.nodes) == [ops.members[i].node for i in members]
    assert proposed.t == 3 and ops.validators.committed_ether() == 32 * ETHER

    reg = ops.register(vid, use_dkg=True)
    assert ops.status(vid) == REGISTERED
    assert ops.pool.in_transit_ether() == ETHER
    credentials = bytes(ops.validators.WITHDRAWAL_CREDENTIALS())
    assert credentials == b"\x01" + b"\x00" * 11 + bytes.fromhex(ops.lst.vault.address[2:])
    assert reg.deposit_data_root == deposit_data_root(
        reg.pubkey, credentials, 10**9, reg.deposit_signature
    )

    ops.next_frame()
    ops.apply(ops.report(confirmed=(vid,), beacon_deposited=ETHER, beacon_balance=ETHER))
    assert ops.validators.validator(vid)[1]  # confirmed
    ops.activate(vid)
    assert ops.status(vid) == ACTIVATED
    assert ops.pool.deposited_ether() == 32 * ETHER
    assert ops.operators.total_active_shares() == 4

    # a day of rewards; one member missed 10 of its 225 attestations (1 epoch per frame)
    boa.env.time_travel(seconds=DAY)
    reward = ETHER // 100
    entries = [Performance(i, 1, 1 if i == max(members) else 0) for i in sorted(members)]
    report = ops.report(
        beacon_balance=32 * ETHER + reward,
        beacon_deposited=32 * ETHER,
        active_validators=1,
        performance=tuple(e.packed() for e in entries),
    )
    collateral_before = ops.operators.collateral(max(members))
    ops.apply(report)
    minted = ops.oracle.get_logs()[-1].fee_shares  # ReportApplied
    assert minted > 0
    credited, burnt = split_rewards(minted, entries, duties_per_share=1)
    for operator_id, shares in credited.items():
        assert ops.operators.reward_shares(operator_id) == shares
    assert sum(credited.values()) + burnt == minted
    assert credited[max(members)] == 0  # its only duty was missed
    # the missed duty cost 0.0001 ETH of collateral, donated to stakers
    assert ops.operators.collateral(max(members))[0] == collateral_before[0] - 10**14
    assert ops.pool.total_pooled_ether() > 64 * ETHER + 10**3

    # claim: the operator's fee recipient receives its divETH shares
    first = ops.members[min(members)]
    with boa.env.prank(first.address):
        ops.operators.claim_rewards()
    assert ops.lst.token.sharesOf(first.address) == credited[min(members)]

    # exit requested by the oracle, then the balance arrives in the vault
    ops.next_frame()
    ops.apply(ops.report(to_exit=(vid,)))
    assert ops.status(vid) == EXITING
    ops.next_frame()
    balance = ops.pool.beacon_balance()
    boa.env.set_balance(ops.lst.vault.address, balance)
    ops.apply(
        ops.report(
            beacon_balance=0,
            active_validators=0,
            exited_validators=1,
            vault_balance=balance,
            withdrawn=(vid,),
        )
    )
    assert ops.status(vid) == WITHDRAWN
    for operator_id in members:
        assert ops.operators.operator(operator_id)[4:] == (0, 0)  # no used, no active shares
    assert ops.operators.total_active_shares() == 0

"""OperatorOracle: frames, hash consensus (≥ 2/3 of committee + operators with active shares),
permissionless submission of the agreed data, replay and staleness, sanity limits."""

from __future__ import annotations

from dataclasses import replace

import boa
import pytest

from nektar.chain.diva_ops import Report

from .conftest import ETHER, FRAME, SLOTS_PER_EPOCH, Ops


def _vote(ops: Ops, member: str, report: Report, operator_id: int = 0) -> None:
    with boa.env.prank(member):
        ops.oracle.vote(report.ref_slot, report.hash(), operator_id)


def _submit(ops: Ops, report: Report) -> None:
    with boa.env.prank(ops.account("anyone")):
        ops.oracle.submit(report.as_tuple())


@pytest.fixture
def framed(ops: Ops) -> Ops:
    ops.next_frame()
    return ops


def test_hash_matches_contract(framed: Ops) -> None:
    """Report.hash() is keccak256(abi_encode(report)) as the contract computes it."""
    ops = framed
    report = ops.report(confirmed=(1, 2), to_exit=(3,))
    ops.agree(report)
    assert ops.oracle.consensus() == (report.ref_slot, report.hash(), False)
    with boa.reverts("validator: unknown validator"):  # the data matched: it got this far
        _submit(ops, report)


def test_frames(framed: Ops) -> None:
    ops = framed
    ref = ops.oracle.current_ref_slot()
    assert (ref + 1) % SLOTS_PER_EPOCH == 0
    boa.env.time_travel(seconds=FRAME)
    assert ops.oracle.current_ref_slot() == ref + SLOTS_PER_EPOCH
    boa.env.time_travel(seconds=4 * FRAME)
    with boa.env.prank(ops.lst.admin):
        ops.oracle.set_parameters(4, 0, False)
    assert (ops.oracle.current_ref_slot() + 1) % (4 * SLOTS_PER_EPOCH) == 0


def test_vote_bad_input(framed: Ops) -> None:
    ops = framed
    ops.next_frame()
    report = ops.report()
    member = ops.committee[0]
    with boa.env.prank(member):
        with boa.reverts("oracle: stale ref slot"):
            ops.oracle.vote(report.ref_slot - SLOTS_PER_EPOCH, report.hash(), 0)
        with boa.reverts("oracle: ref slot is in the future"):
            ops.oracle.vote(report.ref_slot + SLOTS_PER_EPOCH, report.hash(), 0)
        with boa.reverts("oracle: empty report hash"):
            ops.oracle.vote(report.ref_slot, b"\x00" * 32, 0)
        ops.oracle.vote(report.ref_slot, report.hash(), 0)
        with boa.reverts("oracle: already voted in this frame"):
            ops.oracle.vote(report.ref_slot, report.hash(), 0)
    with boa.reverts("oracle: caller is not a member"):
        _vote(ops, ops.account("stranger"), report)
    with boa.reverts("oracle: operators do not vote"):
        _vote(ops, ops.account("stranger"), report, operator_id=1)


def test_no_report_without_quorum(framed: Ops) -> None:
    ops = framed
    report = ops.report()
    _vote(ops, ops.committee[0], report)  # 1 of 3 < 2/3
    with boa.reverts("oracle: no consensus for this frame"):
        _submit(ops, report)
    _vote(ops, ops.committee[1], replace(report, beacon_balance=1))  # a second variant
    with boa.reverts("oracle: no consensus for this frame"):
        _submit(ops, report)
    _vote(ops, ops.committee[2], report)  # 2 of 3 for the first
    with boa.reverts("oracle: report does not match the agreed hash"):
        _submit(ops, replace(report, beacon_balance=1))
    _submit(ops, report)
    assert ops.oracle.last_applied_ref_slot() == report.ref_slot


def test_no_report_twice_and_no_stale_report(framed: Ops) -> None:
    ops = framed
    report = ops.report()
    ops.apply(report)
    with boa.reverts("oracle: report already applied"):
        _submit(ops, report)
    with boa.reverts("oracle: report already applied"):
        _late_vote(ops, report)
    # consensus in one frame, data submitted in the next: stale
    ops.next_frame()
    late = ops.report()
    ops.agree(late)
    boa.env.time_travel(seconds=FRAME)
    with boa.reverts("oracle: stale ref slot"):
        _submit(ops, late)
    with boa.reverts("oracle: no votes for this ref slot"):
        _submit(ops, replace(late, ref_slot=ops.oracle.current_ref_slot()))


def _late_vote(ops: Ops, report: Report) -> None:
    """A member that did not vote yet tries to vote for an applied frame."""
    outsider = ops.account("late-member")
    with boa.env.prank(ops.lst.admin):
        ops.oracle.add_member(outsider)
    _vote(ops, outsider, report)


def test_sanity_limits_apply(framed: Ops) -> None:
    ops = framed
    too_much = ops.report(reward=ETHER)  # nothing staked on the beacon chain
    ops.agree(too_much)
    with boa.reverts("pool: rewards exceed the APR limit"):
        _submit(ops, too_much)
    ops.next_frame()
    bad = ops.report(exited_validators=1)
    ops.agree(bad)
    with boa.reverts("oracle: more validators than activated"):
        _submit(ops, bad)
    ops.next_frame()
    bad = ops.report(active_validators=1)
    ops.agree(bad)
    with boa.reverts("oracle: more validators than activated"):
        _submit(ops, bad)


def test_exited_count_never_decreases(cluster_ready: Ops) -> None:
    ops = cluster_ready
    vid = ops.propose()
    ops.onboard(vid)
    ops.next_frame()
    ops.apply(ops.report(to_exit=(vid,)))
    ops.next_frame()
    ops.apply(ops.report(withdrawn=(vid,), exited_validators=1, active_validators=0))
    ops.next_frame()
    bad = ops.report(exited_validators=0)
    ops.agree(bad)
    with boa.reverts("oracle: exited count went down"):
        _submit(ops, bad)


def test_operators_with_active_shares_are_members(cluster_ready: Ops) -> None:
    ops = cluster_ready
    vid = ops.propose()
    ops.onboard(vid)
    with boa.env.prank(ops.lst.admin):
        ops.oracle.set_parameters(1, 10**14, True)
    assert ops.oracle.members() == 3 + 4
    ops.next_frame()
    report = ops.report()
    members = ops.members_of(vid)
    outsider = next(m for m in ops.members.values() if m not in members)
    with boa.reverts("oracle: caller is not a member"):
        _vote(ops, outsider.node, report, outsider.operator_id)
    with boa.reverts("oracle: caller is not a member"):
        _vote(ops, members[1].node, report, members[0].operator_id)
    for member in members:  # 4 votes of 7: below 2/3
        _vote(ops, member.node, report, member.operator_id)
    with boa.reverts("oracle: already voted in this frame"):
        _vote(ops, members[0].address, report, members[0].operator_id)
    with boa.reverts("oracle: no consensus for this frame"):
        _submit(ops, report)
    _vote(ops, ops.committee[0], report)  # 5 of 7
    _submit(ops, report)


def test_governance(ops: Ops) -> None:
    member = ops.committee[0]
    with boa.env.prank(ops.lst.admin):
        with boa.reverts("oracle: already a member"):
            ops.oracle.add_member(member)
        ops.oracle.remove_member(member)
        with boa.reverts("oracle: not a member"):
            ops.oracle.remove_member(member)
        with boa.reverts("oracle: frame length out of range"):
            ops.oracle.set_parameters(0, 0, True)
    with boa.env.prank(member), boa.reverts("oracle: caller is not governance"):
        ops.oracle.add_member(member)
    assert ops.oracle.members() == 2

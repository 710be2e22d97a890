"""The `nektar.chain.diva_ops` wrappers on the in-process backend, through the operators
walkthrough that `make demo` shows: deploy_diva_system, registration with node-key proofs,
proposal, a DKG-played cluster, oracle consensus by committee and operator nodes, 1 + 31 ETH,
rewards, exit and withdrawal."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend
from nektar.chain.anvil import start_anvil
from nektar.chain.diva_ops import Report, deploy_diva_system
from nektar.devnet.operators_demo import MISSED_DUTIES, run_operators_walkthrough


def test_operators_walkthrough_in_process() -> None:
    steps = []
    result = run_operators_walkthrough(InProcessBackend(), steps.append)
    assert result.statuses == ["REGISTERED", "ACTIVATED", "EXITING", "WITHDRAWN"]
    assert result.rate_after > result.rate_before
    members = [o for o in result.operators if o.operator_id in result.members]
    paid = [o for o in members if o.missed == 0]
    assert len(paid) == 3 and all(o.reward_shares == paid[0].reward_shares > 0 for o in paid)
    slacker = next(o for o in members if o.missed == MISSED_DUTIES)
    assert slacker.reward_shares == 0 and slacker.collateral_end < slacker.bonded
    assert sum(o.reward_shares for o in result.operators) <= result.fee_shares
    assert result.fee_shares - sum(o.reward_shares for o in result.operators) < len(members)
    assert max(result.gas["oracle vote"]) < 100_000
    assert any(step.title == "31 ETH deposited" for step in steps)


@pytest.mark.anvil
def test_operators_walkthrough_on_anvil() -> None:
    """The same walkthrough over JSON-RPC: same contracts, same checks."""
    node = start_anvil()
    try:
        result = run_operators_walkthrough(node.backend())
    finally:
        node.stop()
    assert result.statuses == ["REGISTERED", "ACTIVATED", "EXITING", "WITHDRAWN"]
    assert result.fee_shares > 0


def test_report_hash_and_wrappers() -> None:
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    report = Report(1, 2, 3, 4, 5, 6, (7,), (), (8, 9), (), (10 << 32 | 1,))
    assert len(report.hash()) == 32 and report.hash() != Report(1, 2, 3, 4, 5, 6).hash()
    assert system.validators.withdrawal_credentials() == system.lst.withdrawal_credentials()
    assert system.operators.operator_count() == 0
    assert system.oracle.frame_seconds() == 12 * 32
    assert system.lst.pool.has_role("ORACLE_ROLE", system.oracle.address)
    assert system.lst.pool.has_role("DEPOSITOR_ROLE", system.validators.address)
    admin = system.lst.admin
    system.validators.set_parameters(admin, 7, 600)
    assert (system.validators.dkg_timeout(), system.validators.validator_count()) == (600, 0)
    system.operators.set_parameters(admin, 2 * 10**18, 3600)
    assert system.oracle.members() == 0 and system.oracle.consensus() == (0, bytes(32), False)

"""The lifecycle service on four nodes: a confirmed validator is activated once, and the
ejection of one of its operators makes the nodes request its exit once."""

from __future__ import annotations

from nektar.chain.diva_ops import Report
from nektar.stinger.lifecycle import LifecycleService

from .conftest import ETHER, Protocol, until

ACTIVATED, EXITING = 3, 4
FRAME_SECONDS = 2 * 8  # the fixture's oracle: 2 s slots, 8 slots, 1 epoch per frame


async def test_activation_and_ejection_exit_request(protocol: Protocol) -> None:
    p = protocol
    admin = p.backend.accounts[0]
    for _ in range(4):
        p.add_operator()
    p.stake(32 * ETHER)
    await p.start(p.nodes)
    services = [
        LifecycleService(p.system.validators, n.clusters, n.key, stagger=1.0) for n in p.nodes
    ]
    for node, service in zip(p.nodes, services, strict=True):
        service.attach(node.watcher)
    try:
        vid = p.propose().validator_id
        await until(lambda: all(vid in n.engine.results for n in p.nodes), 30, "registration")

        # a governed committee of one confirms the credentials (the reporters are tested with
        # a beacon chain in test_oracle.py)
        member = p.backend.new_account()
        p.system.oracle.add_member(admin, member.address)
        p.backend.increase_time(FRAME_SECONDS)
        report = Report(
            ref_slot=p.system.oracle.current_ref_slot(),
            beacon_balance=ETHER,
            beacon_deposited=ETHER,
            active_validators=0,
            exited_validators=0,
            vault_balance=0,
            confirmed=(vid,),
        )
        p.system.oracle.vote(member, report)
        p.system.oracle.submit(member, report)
        registry = p.system.validators
        await until(lambda: registry.validator(vid).status == ACTIVATED, 30, "activation")
        assert len(registry.contract.events("ValidatorActivated")) == 1
        assert p.system.lst.pool.contract.call("deposited_ether") == 32 * ETHER

        # governance raises the bond: one member is under-collateralised and gets ejected
        p.system.operators.contract.transact("set_parameters", 10 * ETHER, 0, sender=admin)
        ejected = registry.validator(vid).operator_ids[-1]
        p.system.operators.eject(p.backend.new_account(), ejected)
        await until(lambda: registry.validator(vid).status == EXITING, 30, "exit request")
        requests = registry.contract.events("ExitRequested")
        assert [(int(e["validator_id"]), e["by_ejection"]) for e in requests] == [(vid, True)]
    finally:
        for service in services:
            await service.stop()

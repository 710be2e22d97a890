"""The nektar.chain distributor wrappers, end to end on the in-process backend: factory
(blueprint deployed through the backend), deposit by weight, queued redeem after the delay."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend, TransactionReverted
from nektar.chain.diva_ops import deploy_diva_system
from nektar.chain.marketplace import deploy_upper_layer
from nektar.chain.restaking import deploy_distributor_factory
from nektar.crypto.node_key import NodeKey

ETHER = 10**18


def test_distributor_through_wrappers():
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    upper = deploy_upper_layer(system)
    wdiv = system.lst.wrapper
    factory = deploy_distributor_factory(backend, upper.vault, wdiv.address)

    operators = [backend.new_account(100 * ETHER) for _ in range(2)]
    for op in operators:
        system.operators.register_tx(op, NodeKey.generate(), "https://op.example")
    manager = backend.new_account(ETHER)
    lrt = factory.create(manager, [op.address for op in operators], [7_000, 3_000])

    holder = backend.new_account(100 * ETHER)
    system.lst.pool.deposit(holder, 20 * ETHER)
    system.lst.token.approve(holder, wdiv.address, 20 * ETHER)
    wdiv.wrap(holder, 10 * ETHER)
    amount = wdiv.balance_of(holder)
    wdiv.contract.transact("approve", lrt.address, amount, sender=holder)
    lrt.deposit(holder, amount)
    assert upper.vault.value_of(lrt.account(0)) == amount * 7_000 // 10_000
    assert lrt.total_assets() == amount

    request = lrt.request_redeem(holder, lrt.balance_of(holder.address))
    with pytest.raises(TransactionReverted, match="withdrawal delay not passed"):
        lrt.complete_redeem(holder, request)
    backend.increase_time(7 * 86_400)
    lrt.complete_redeem(holder, request)
    assert amount - 2 <= wdiv.balance_of(holder) <= amount
    with pytest.raises(TransactionReverted, match="not the manager"):
        lrt.rebalance(holder)

"""The nektar.chain distributor wrappers, end to end on the in-process backend: factory
(blueprint deployed through the backend), deposits spread over three operators, network
rewards harvested and claimed by every holder, queued redeem after the delay."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend, TransactionReverted
from nektar.chain.diva_ops import deploy_diva_system
from nektar.chain.marketplace import WAD, deploy_upper_layer
from nektar.chain.restaking import deploy_distributor_factory
from nektar.crypto.node_key import NodeKey
from support import register_reward_network

ETHER = 10**18


def test_distributor_through_wrappers():
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    upper = deploy_upper_layer(system)
    wdiv = system.lst.wrapper
    factory = deploy_distributor_factory(backend, upper.vault, wdiv.address)

    operators = [backend.new_account(100 * ETHER) for _ in range(3)]
    for op in operators:
        system.operators.register_tx(op, NodeKey.generate(), "https://op.example")
    manager = backend.new_account(ETHER)
    addresses = [op.address for op in operators]
    lrt = factory.create(manager, addresses, [5_000, 3_000, 2_000], fee_bps=100)
    assert lrt.operators() == addresses and lrt.weights() == [5_000, 3_000, 2_000]

    holders = [backend.new_account(100 * ETHER) for _ in range(2)]
    for holder in holders:
        system.lst.pool.deposit(holder, 20 * ETHER)
        system.lst.token.approve(holder, wdiv.address, 20 * ETHER)
        wdiv.wrap(holder, 10 * ETHER)
        wdiv.contract.transact("approve", lrt.address, 10 * ETHER, sender=holder)
        lrt.deposit(holder, 10 * ETHER)
    net_in = 20 * ETHER - 2 * (10 * ETHER // 100)
    assert lrt.positions() == [net_in * w // 10_000 for w in (5_000, 3_000, 2_000)]
    assert lrt.total_assets() == net_in

    reward = register_reward_network(backend, upper.registry, wdiv.address)
    network, token = reward.network, reward.token
    for op in operators:
        upper.registry.opt_in(op, network.address)
        upper.registry.allocate(op, network.address, WAD)
    backend.increase_time(86_400)
    upper.registry.fund_epoch(network, 1_000 * ETHER)
    lrt.add_reward_token(manager, token.address)
    assert lrt.reward_tokens() == [token.address]
    assert lrt.pending_harvest(token.address, network.address, 0) > 0
    keeper = backend.new_account(ETHER)
    harvested = lrt.harvest_all(keeper, network.address)
    assert 1_000 * ETHER - harvested <= 3
    assert lrt.harvest_all(keeper, network.address) == 0
    fee = token.call("balanceOf", manager.address)
    claimed = [lrt.claim_rewards(h, token.address) for h in holders]
    assert claimed == [token.call("balanceOf", h.address) for h in holders]
    assert 0 <= harvested - fee - sum(claimed) <= 2
    assert lrt.claimable_rewards(token.address, holders[0].address) == 0

    holder = holders[0]
    before = wdiv.balance_of(holder)
    request = lrt.request_redeem(holder, lrt.balance_of(holder.address))
    with pytest.raises(TransactionReverted, match="withdrawal delay not passed"):
        lrt.complete_redeem(holder, request)
    backend.increase_time(14 * 86_400)
    lrt.complete_redeem(holder, request)
    assert net_in // 2 - 3 <= wdiv.balance_of(holder) - before <= net_in // 2
    with pytest.raises(TransactionReverted, match="not the manager"):
        lrt.rebalance(holder)

"""nektar.chain.restaking / nektar.chain.marketplace on the in-process backend (real txs)."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend, TransactionReverted, compile_contract
from nektar.chain.diva_ops import deploy_diva_system
from nektar.chain.marketplace import WAD, deploy_upper_layer
from nektar.crypto.node_key import NodeKey
from support import register_reward_network

ETHER = 10**18


def test_restake_allocate_slash_and_claim_through_wrappers():
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    neth = backend.deploy(
        compile_contract("devnet/RewardToken.vy"),
        "nETH stand-in",
        "nETH",
        sender=backend.accounts[0],
    )
    upper = deploy_upper_layer(system, native_asset=neth.address)
    vault, registry = upper.vault, upper.registry
    assert upper.native_vault is not None
    assert registry.vaults() == [vault.address, upper.native_vault.address]
    wdiv = system.lst.wrapper

    operator = backend.new_account(100 * ETHER)
    system.operators.register_tx(operator, NodeKey.generate(), "https://op.example")
    restaker = backend.new_account(100 * ETHER)
    system.lst.pool.deposit(restaker, 20 * ETHER)
    system.lst.token.approve(restaker, wdiv.address, 20 * ETHER)
    wdiv.wrap(restaker, 20 * ETHER - 1)
    amount = wdiv.balance_of(restaker)
    wdiv.contract.transact("approve", vault.address, amount, sender=restaker)
    vault.deposit(restaker, amount, operator.address)
    assert vault.delegated_to(restaker.address) == operator.address
    assert vault.value_of(restaker.address) == amount

    network, slasher, resolver, token, terms = register_reward_network(
        backend, registry, wdiv.address
    )
    assert registry.terms(network.address) == terms
    assert registry.network_vaults(network.address) == [0]
    with pytest.raises(TransactionReverted, match="not governance"):
        registry.add_vault(network, upper.native_vault.address, priced_by_4626=False)
    registry.opt_in(operator, network.address)
    registry.allocate(operator, network.address, WAD // 2)
    backend.increase_time(86_400)
    assert registry.allocation(network.address, operator.address) == WAD // 2

    request = registry.request_slash(slasher, operator.address, WAD // 5, b"\x01" * 32)
    with pytest.raises(TransactionReverted, match="veto window open"):
        registry.execute_slash(restaker, request)
    registry.veto_slash(resolver, request)
    request = registry.request_slash(slasher, operator.address, WAD // 5, b"\x02" * 32)
    backend.increase_time(86_400)
    registry.execute_slash(restaker, request)
    assert registry.reservation(request, 1) == (0, 0, 0)
    slashed_value = vault.value_of(restaker.address)
    assert amount - amount // 10 - 2 <= slashed_value <= amount - amount // 10

    registry.fund_epoch(network, 1_000 * ETHER)
    generation = vault.generation(network.address, operator.address)
    owed = vault.claimable(
        token.address, network.address, operator.address, generation, restaker.address
    )
    assert owed == pytest.approx(1_000 * ETHER, abs=10**6)
    vault.claim(restaker, token.address, network.address, operator.address, generation)
    assert token.call("balanceOf", restaker.address) == owed

    receipt = vault.queue_withdrawal(restaker, vault.shares(restaker.address))
    withdrawal_id = vault.withdrawal_id(receipt)
    with pytest.raises(TransactionReverted, match="withdrawal delay not passed"):
        vault.complete_withdrawal(restaker, withdrawal_id)
    backend.increase_time(14 * 86_400)
    vault.complete_withdrawal(restaker, withdrawal_id)
    assert wdiv.balance_of(restaker.address) == slashed_value

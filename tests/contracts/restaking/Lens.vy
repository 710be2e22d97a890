# pragma version ~=0.4.3
"""Aggregates the invariant tests read after every step, in one call each."""

from ethereum.ercs import IERC20


interface IVault:
    def total_deposited() -> uint256: view
    def total_withdrawn() -> uint256: view
    def total_slashed() -> uint256: view
    def active_pool(operator: address) -> (uint256, uint256, uint256): view
    def queued_pool(operator: address, gen: uint256) -> (uint256, uint256, uint256): view
    def queue_generation(operator: address) -> uint256: view
    def value_of(restaker: address) -> uint256: view
    def withdrawal_value(withdrawal_id: uint256) -> uint256: view
    def rewards_funded(token: address) -> uint256: view
    def rewards_claimed(token: address) -> uint256: view
    def unallocated(token: address, network: address) -> uint256: view
    def commission_owed(token: address, operator: address) -> uint256: view
    def reward_key(token: address, network: address, operator: address) -> bytes32: view
    def claimable(key: bytes32, restaker: address, operator: address) -> uint256: view


@external
@view
def wdiv_ledger(vault: IVault, wdiv: IERC20, operators: DynArray[address, 8]) -> uint256[3]:
    """(vault balance, deposited − withdrawn − slashed, Σ pool assets)."""
    pools: uint256 = 0
    for op: address in operators:
        pools += (staticcall vault.active_pool(op))[0]
        for gen: uint256 in range(64):
            if gen > staticcall vault.queue_generation(op):
                break
            pools += (staticcall vault.queued_pool(op, gen))[0]
    booked: uint256 = staticcall vault.total_deposited() - staticcall vault.total_withdrawn() - staticcall vault.total_slashed()
    return [staticcall wdiv.balanceOf(vault.address), booked, pools]


@external
@view
def restaker_value(vault: IVault, wdiv: IERC20, restakers: DynArray[address, 8], withdrawals: DynArray[uint256, 256]) -> uint256:
    """Σ wdivETH restakers hold (wallets + active values + queued withdrawals)."""
    total: uint256 = 0
    for r: address in restakers:
        total += staticcall wdiv.balanceOf(r) + staticcall vault.value_of(r)
    for wid: uint256 in withdrawals:
        total += staticcall vault.withdrawal_value(wid)
    return total


@external
@view
def reward_ledger(vault: IVault, token: IERC20, network: address, operators: DynArray[address, 8], restakers: DynArray[address, 8]) -> uint256[4]:
    """(funded, claimed, vault token balance, Σ everything claimable)."""
    owed: uint256 = staticcall vault.unallocated(token.address, network)
    for op: address in operators:
        owed += staticcall vault.commission_owed(token.address, op)
        key: bytes32 = staticcall vault.reward_key(token.address, network, op)
        for r: address in restakers:
            owed += staticcall vault.claimable(key, r, op)
    return [staticcall vault.rewards_funded(token.address), staticcall vault.rewards_claimed(token.address), staticcall token.balanceOf(vault.address), owed]


interface IRegistry:
    def encumbered(operator: address) -> uint256: view
    def allocation(network: address, operator: address) -> uint256: view


@external
@view
def allocations(registry: IRegistry, networks: DynArray[address, 4], operators: DynArray[address, 8]) -> (uint256, DynArray[uint256, 32]):
    """(max over operators of Σ encumbered, allocations in force network-major)."""
    worst: uint256 = 0
    out: DynArray[uint256, 32] = []
    for op: address in operators:
        worst = max(worst, staticcall registry.encumbered(op))
    for net: address in networks:
        for op: address in operators:
            out.append(staticcall registry.allocation(net, op))
    return worst, out

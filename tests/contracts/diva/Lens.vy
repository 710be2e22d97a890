# pragma version ~=0.4.3
"""
@notice Test-only reader: gathers every figure the stateful invariants compare in ONE call,
        so that checking them after each hypothesis step stays cheap. It only reads.
"""


interface IPool:
    def total_pooled_ether() -> uint256: view
    def buffered_ether() -> uint256: view
    def in_transit_ether() -> uint256: view
    def beacon_balance() -> uint256: view


interface IToken:
    def totalSupply() -> uint256: view
    def getTotalShares() -> uint256: view
    def sharesOf(account: address) -> uint256: view
    def balanceOf(account: address) -> uint256: view


interface IQueue:
    def locked_ether() -> uint256: view
    def unfinalized_ether() -> uint256: view
    def unfinalized_shares() -> uint256: view
    def last_request_id() -> uint256: view
    def last_finalized_id() -> uint256: view


interface IWrapper:
    def totalSupply() -> uint256: view
    def totalAssets() -> uint256: view
    def balanceOf(account: address) -> uint256: view
    def maxDeposit(receiver: address) -> uint256: view
    def maxMint(receiver: address) -> uint256: view
    def maxWithdraw(owner: address) -> uint256: view
    def maxRedeem(owner: address) -> uint256: view
    def convertToAssets(shares: uint256) -> uint256: view


struct Snapshot:
    pooled: uint256
    buffered: uint256
    in_transit: uint256
    beacon: uint256
    total_supply: uint256
    total_shares: uint256
    sum_shares: uint256
    sum_balances: uint256
    holders_with_shares: uint256
    locked: uint256
    unfinalized_ether: uint256
    unfinalized_shares: uint256
    queue_shares: uint256
    last_request_id: uint256
    last_finalized_id: uint256
    pool_eth: uint256
    queue_eth: uint256
    vault_eth: uint256
    wrapper_supply: uint256
    wrapper_assets: uint256
    wrapper_shares: uint256
    sum_wrapper_balances: uint256
    max_withdraw_sum: uint256


@external
@view
def snapshot(
    pool: address,
    token: address,
    queue: address,
    vault: address,
    wrapper: address,
    holders: DynArray[address, 16],
    vault_holders: DynArray[address, 16],
) -> Snapshot:
    s: Snapshot = empty(Snapshot)
    s.pooled = staticcall IPool(pool).total_pooled_ether()
    s.buffered = staticcall IPool(pool).buffered_ether()
    s.in_transit = staticcall IPool(pool).in_transit_ether()
    s.beacon = staticcall IPool(pool).beacon_balance()
    s.total_supply = staticcall IToken(token).totalSupply()
    s.total_shares = staticcall IToken(token).getTotalShares()
    for holder: address in holders:
        shares: uint256 = staticcall IToken(token).sharesOf(holder)
        s.sum_shares += shares
        s.sum_balances += staticcall IToken(token).balanceOf(holder)
        if shares != 0:
            s.holders_with_shares += 1
    for holder: address in vault_holders:
        # max* must never revert: called for every holder after every step
        balance: uint256 = staticcall IWrapper(wrapper).balanceOf(holder)
        s.sum_wrapper_balances += balance
        s.max_withdraw_sum += staticcall IWrapper(wrapper).maxWithdraw(holder)
        assert staticcall IWrapper(wrapper).maxRedeem(holder) == balance, "lens: maxRedeem is not the balance"
    if len(vault_holders) != 0:
        assert staticcall IWrapper(wrapper).maxDeposit(wrapper) == max_value(uint256), "lens: maxDeposit is limited"
        assert staticcall IWrapper(wrapper).maxMint(wrapper) == max_value(uint256), "lens: maxMint is limited"
        s.wrapper_supply = staticcall IWrapper(wrapper).totalSupply()
        s.wrapper_assets = staticcall IWrapper(wrapper).totalAssets()
        s.wrapper_shares = staticcall IToken(token).sharesOf(wrapper)
    s.locked = staticcall IQueue(queue).locked_ether()
    s.unfinalized_ether = staticcall IQueue(queue).unfinalized_ether()
    s.unfinalized_shares = staticcall IQueue(queue).unfinalized_shares()
    s.queue_shares = staticcall IToken(token).sharesOf(queue)
    s.last_request_id = staticcall IQueue(queue).last_request_id()
    s.last_finalized_id = staticcall IQueue(queue).last_finalized_id()
    s.pool_eth = pool.balance
    s.queue_eth = queue.balance
    s.vault_eth = vault.balance
    return s

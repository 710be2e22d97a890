# pragma version ~=0.4.3
"""
@title Diva StakingPool
@notice Takes ETH deposits and mints divETH at the current rate, holds the buffer, funds
        validators (`withdraw_for_deposit`, counted as "in transit" until the beacon chain
        credits it), applies oracle reports under sanity limits (max annualised rewards, max
        loss per report), mints the protocol fee as divETH shares, pulls beacon withdrawals
        from the WithdrawalVault and finalizes the WithdrawalQueue.
        total pooled ETH = buffered + in transit + reported beacon balance.
@dev Roles use snekmate's access_control. User paths are kept to few storage slots: the
     buffer and total pooled ETH share one slot, and the token address, minimum deposit and
     the paused/limited flags share another (see docs/diva-lst.md, "Gas").
"""

from snekmate.auth import access_control

initializes: access_control

exports: access_control.__interface__


interface IDivEther:
    def getTotalShares() -> uint256: view
    def mint_for_ether(receiver: address, amount: uint256, pooled_before: uint256) -> uint256: nonpayable
    def mint_shares(receiver: address, shares: uint256) -> uint256: nonpayable
    def set_withdrawal_queue(queue: address): nonpayable


interface IWithdrawalQueue:
    def unfinalized_ether() -> uint256: view
    def last_finalized_id() -> uint256: view
    def prefinalize(max_eth: uint256, pooled: uint256, shares: uint256, max_requests: uint256) -> (uint256, uint256): view
    def finalize(last_id: uint256, pooled: uint256, shares: uint256): payable


interface IWithdrawalVault:
    def withdraw_to_pool(amount: uint256): nonpayable


event DepositedToBeacon:
    depositor: indexed(address)
    amount: uint256
    in_transit: uint256


event Donation:
    sender: indexed(address)
    amount: uint256


event TokenRebased:
    report_timestamp: indexed(uint256)
    time_elapsed: uint256
    pre_total_shares: uint256
    pre_total_ether: uint256
    post_total_shares: uint256
    post_total_ether: uint256
    shares_minted_as_fees: uint256


event BeaconReported:
    beacon_balance: uint256
    beacon_validators: uint256
    beacon_deposited: uint256
    vault_withdrawn: uint256
    finalized_to: uint256
    ether_to_queue: uint256


event StakingPaused:
    pass


event StakingResumed:
    pass


event StakingLimitSet:
    max_limit: uint256
    increase_per_block: uint256


event StakingLimitRemoved:
    pass


event ParametersChanged:
    min_deposit: uint256
    fee_bps: uint256
    fee_recipient: address
    max_apr_bps: uint256
    max_loss_bps: uint256
    max_finalize_requests: uint256


PAUSE_ROLE: public(constant(bytes32)) = keccak256("PAUSE_ROLE")
RESUME_ROLE: public(constant(bytes32)) = keccak256("RESUME_ROLE")
STAKING_CONTROL_ROLE: public(constant(bytes32)) = keccak256("STAKING_CONTROL_ROLE")
DEPOSITOR_ROLE: public(constant(bytes32)) = keccak256("DEPOSITOR_ROLE")
ORACLE_ROLE: public(constant(bytes32)) = keccak256("ORACLE_ROLE")

BPS: constant(uint256) = 10_000
YEAR: constant(uint256) = 365 * 86_400
MASK128: constant(uint256) = 2**128 - 1
MASK160: constant(uint256) = 2**160 - 1
MASK88: constant(uint256) = 2**88 - 1
PAUSED_BIT: constant(uint256) = 2**248
LIMITED_BIT: constant(uint256) = 2**249

# buffered (low 128 bits) | total pooled ETH (high 128 bits)
_money: uint256
# token address (bits 0..159) | min deposit (160..247) | staking paused (248) | limited (249)
_config: uint256
# staking limit: remaining limit (low 128) | block of last update (high 128)
_limit_state: uint256
# staking limit: max (low 128) | increase per block (high 128)
_limit_params: uint256

withdrawal_queue: public(address)
withdrawal_vault: public(address)

beacon_balance: public(uint256)
beacon_validators: public(uint256)
deposited_ether: public(uint256)
beacon_deposited_ether: public(uint256)
last_report_timestamp: public(uint256)

fee_bps: public(uint256)
fee_recipient: public(address)
max_apr_bps: public(uint256)
max_loss_bps: public(uint256)
max_finalize_requests: public(uint256)


@deploy
def __init__():
    """
    @notice The deployer gets DEFAULT_ADMIN_ROLE (governance) and is the first fee recipient.
            Then deploy DivEther, WithdrawalQueue and WithdrawalVault and call `initialize`.
    """
    access_control.__init__()
    self._config = (10**15) << 160
    self.fee_bps = 1_000
    self.fee_recipient = msg.sender
    self.max_apr_bps = 1_000
    self.max_loss_bps = 500
    self.max_finalize_requests = 100


@external
@payable
def initialize(token: address, queue: address, vault: address):
    """
    @notice Wire the pool once (admin). `msg.value` must equal divETH's dead shares, which
            it backs 1:1 so that the share rate starts at exactly 1.
    """
    assert access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender], "pool: caller is not admin"
    assert self._config & MASK160 == 0, "pool: already initialized"
    assert token != empty(address) and queue != empty(address) and vault != empty(address), "pool: zero address"
    assert msg.value == staticcall IDivEther(token).getTotalShares(), "pool: initial deposit must equal dead shares"
    self._config = self._config | convert(token, uint256)
    self.withdrawal_queue = queue
    self.withdrawal_vault = vault
    self._set_money(msg.value, msg.value)
    self.last_report_timestamp = block.timestamp
    extcall IDivEther(token).set_withdrawal_queue(queue)


@internal
def _set_money(pooled: uint256, buffered: uint256):
    """@dev Both halves of the packed slot must fit 128 bits (≈ 3.4e20 ETH) or they'd corrupt."""
    assert pooled <= MASK128, "pool: pooled ether exceeds 128 bits"
    self._money = (pooled << 128) | buffered


# ---------------------------------------------------------------- views


@internal
@view
def _token() -> address:
    return convert(self._config & MASK160, address)


@external
@view
def token() -> address:
    return self._token()


@external
@view
def total_pooled_ether() -> uint256:
    return self._money >> 128


@external
@view
def buffered_ether() -> uint256:
    return self._money & MASK128


@external
@view
def in_transit_ether() -> uint256:
    return self.deposited_ether - self.beacon_deposited_ether


@external
@view
def min_deposit() -> uint256:
    return (self._config >> 160) & MASK88


@external
@view
def is_staking_paused() -> bool:
    return self._config & PAUSED_BIT != 0


@internal
@view
def _current_limit() -> uint256:
    params: uint256 = self._limit_params
    state: uint256 = self._limit_state
    grown: uint256 = (state & MASK128) + (block.number - (state >> 128)) * (params >> 128)
    return min(grown, params & MASK128)


@external
@view
def current_stake_limit() -> uint256:
    """@notice What one deposit may stake now: 0 when paused, max uint256 when unlimited."""
    cfg: uint256 = self._config
    if cfg & PAUSED_BIT != 0:
        return 0
    if cfg & LIMITED_BIT == 0:
        return max_value(uint256)
    return self._current_limit()


@external
@view
def staking_limit() -> (uint256, uint256):
    """@notice (max limit, increase per block); (0, 0) when no limit is set."""
    if self._config & LIMITED_BIT == 0:
        return (0, 0)
    params: uint256 = self._limit_params
    return (params & MASK128, params >> 128)


# ---------------------------------------------------------------- deposits


@internal
def _deposit(sender: address, amount: uint256) -> uint256:
    cfg: uint256 = self._config
    token: address = convert(cfg & MASK160, address)
    assert token != empty(address), "pool: not initialized"
    assert cfg & PAUSED_BIT == 0, "pool: staking paused"
    assert amount >= (cfg >> 160) & MASK88, "pool: deposit below minimum"
    if cfg & LIMITED_BIT != 0:
        limit: uint256 = self._current_limit()
        assert amount <= limit, "pool: staking limit exceeded"
        self._limit_state = (block.number << 128) | (limit - amount)
    money: uint256 = self._money
    pooled: uint256 = money >> 128
    self._set_money(pooled + amount, (money & MASK128) + amount)
    return extcall IDivEther(token).mint_for_ether(sender, amount, pooled)


@external
@payable
@nonreentrant
def deposit() -> uint256:
    """@notice Stake `msg.value` and receive divETH; returns the shares minted."""
    return self._deposit(msg.sender, msg.value)


@external
@payable
@nonreentrant
def __default__():
    """@notice A plain ETH transfer is a deposit."""
    self._deposit(msg.sender, msg.value)


@external
@payable
@nonreentrant
def receive_donation():
    """@notice Add ETH to the buffer without minting: a gift to all holders (e.g. penalties)."""
    assert msg.value != 0, "pool: zero donation"
    assert self._config & MASK160 != 0, "pool: not initialized"
    money: uint256 = self._money
    self._set_money((money >> 128) + msg.value, (money & MASK128) + msg.value)
    log Donation(sender=msg.sender, amount=msg.value)


@external
@payable
def receive_from_vault():
    """@notice Beacon withdrawals arrive here during `report`, which accounts for them."""
    assert msg.sender == self.withdrawal_vault, "pool: ETH only from the withdrawal vault"


# ---------------------------------------------------------------- validators


@external
@nonreentrant
def withdraw_for_deposit(amount: uint256):
    """
    @notice DEPOSITOR_ROLE (the ValidatorRegistry) takes `amount` from the buffer to deposit
            it on the beacon chain. The ETH counts as in transit, so total pooled ETH is
            unchanged. ETH that unfinalized withdrawals need stays in the buffer.
    """
    assert access_control.hasRole[DEPOSITOR_ROLE][msg.sender], "pool: caller lacks DEPOSITOR_ROLE"
    assert amount != 0, "pool: zero amount"
    money: uint256 = self._money
    buffered: uint256 = money & MASK128
    reserved: uint256 = staticcall IWithdrawalQueue(self.withdrawal_queue).unfinalized_ether()
    assert amount + reserved <= buffered, "pool: buffer too small (reserved for withdrawals)"
    self._money = (money & ~MASK128) | (buffered - amount)
    self.deposited_ether += amount
    log DepositedToBeacon(
        depositor=msg.sender,
        amount=amount,
        in_transit=self.deposited_ether - self.beacon_deposited_ether,
    )
    success: bool = raw_call(msg.sender, b"", value=amount, revert_on_failure=False)
    assert success, "pool: ETH transfer to the depositor failed"


# ---------------------------------------------------------------- oracle report


@external
@nonreentrant
def report(
    beacon_balance: uint256,
    beacon_validators: uint256,
    beacon_deposited: uint256,
    vault_withdrawn: uint256,
):
    """
    @notice ORACLE_ROLE reports the beacon chain: the balance of the protocol's validators,
            their count, the cumulative ETH the beacon chain has credited from our deposits
            (which ends its time in transit) and the ETH to pull from the WithdrawalVault.
            rewards = (beacon balance + withdrawn) − (previous balance + newly credited).
            Rewards above `max_apr_bps` annualised, or a loss above `max_loss_bps` of total
            pooled ETH, revert. `fee_bps` of positive rewards is minted as shares to
            `fee_recipient`; then withdrawal requests are finalized in order with the buffer.
    """
    assert access_control.hasRole[ORACLE_ROLE][msg.sender], "pool: caller lacks ORACLE_ROLE"
    token: address = self._token()
    assert token != empty(address), "pool: not initialized"
    previous_deposited: uint256 = self.beacon_deposited_ether
    sent: uint256 = self.deposited_ether
    assert beacon_deposited >= previous_deposited, "pool: beacon deposits went down"
    assert beacon_deposited <= sent, "pool: beacon deposits exceed ETH sent"

    money: uint256 = self._money
    pre_pooled: uint256 = money >> 128
    if vault_withdrawn != 0:
        extcall IWithdrawalVault(self.withdrawal_vault).withdraw_to_pool(vault_withdrawn)
    buffered: uint256 = (money & MASK128) + vault_withdrawn
    post_pooled: uint256 = buffered + (sent - beacon_deposited) + beacon_balance

    elapsed: uint256 = block.timestamp - self.last_report_timestamp
    rewards: uint256 = 0
    if post_pooled >= pre_pooled:
        rewards = post_pooled - pre_pooled
        assert rewards * BPS * YEAR <= pre_pooled * self.max_apr_bps * elapsed, "pool: rewards exceed the APR limit"
    else:
        assert (pre_pooled - post_pooled) * BPS <= pre_pooled * self.max_loss_bps, "pool: loss exceeds the per-report limit"

    self.beacon_balance = beacon_balance
    self.beacon_validators = beacon_validators
    self.beacon_deposited_ether = beacon_deposited
    self.last_report_timestamp = block.timestamp

    pre_shares: uint256 = staticcall IDivEther(token).getTotalShares()
    fee_shares: uint256 = 0
    fee: uint256 = rewards * self.fee_bps // BPS
    if fee != 0:
        # value of the new shares at the post-report rate ≤ fee (rounded down)
        fee_shares = fee * pre_shares // (post_pooled - fee)
    self._set_money(post_pooled, buffered)
    if fee_shares != 0:
        extcall IDivEther(token).mint_shares(self.fee_recipient, fee_shares)
    post_shares: uint256 = pre_shares + fee_shares

    queue: address = self.withdrawal_queue
    last_id: uint256 = 0
    to_queue: uint256 = 0
    last_id, to_queue = staticcall IWithdrawalQueue(queue).prefinalize(
        buffered, post_pooled, post_shares, self.max_finalize_requests
    )
    if last_id > staticcall IWithdrawalQueue(queue).last_finalized_id():
        self._set_money(post_pooled - to_queue, buffered - to_queue)
        extcall IWithdrawalQueue(queue).finalize(last_id, post_pooled, post_shares, value=to_queue)

    log TokenRebased(
        report_timestamp=block.timestamp,
        time_elapsed=elapsed,
        pre_total_shares=pre_shares,
        pre_total_ether=pre_pooled,
        post_total_shares=post_shares,
        post_total_ether=post_pooled,
        shares_minted_as_fees=fee_shares,
    )
    log BeaconReported(
        beacon_balance=beacon_balance,
        beacon_validators=beacon_validators,
        beacon_deposited=beacon_deposited,
        vault_withdrawn=vault_withdrawn,
        finalized_to=last_id,
        ether_to_queue=to_queue,
    )


# ---------------------------------------------------------------- staking control


@external
def pause_staking():
    assert access_control.hasRole[PAUSE_ROLE][msg.sender], "pool: caller lacks PAUSE_ROLE"
    cfg: uint256 = self._config
    assert cfg & PAUSED_BIT == 0, "pool: staking already paused"
    self._config = cfg | PAUSED_BIT
    log StakingPaused()


@external
def resume_staking():
    assert access_control.hasRole[RESUME_ROLE][msg.sender], "pool: caller lacks RESUME_ROLE"
    cfg: uint256 = self._config
    assert cfg & PAUSED_BIT != 0, "pool: staking not paused"
    self._config = cfg & ~PAUSED_BIT
    log StakingResumed()


@external
def set_staking_limit(max_limit: uint256, increase_per_block: uint256):
    """
    @notice Lido-style limit: a deposit may take at most the current limit, which refills
            by `increase_per_block` up to `max_limit`.
    """
    assert access_control.hasRole[STAKING_CONTROL_ROLE][msg.sender], "pool: caller lacks STAKING_CONTROL_ROLE"
    assert max_limit != 0, "pool: zero staking limit"
    assert max_limit <= MASK128, "pool: staking limit too large"
    assert increase_per_block <= max_limit, "pool: increase per block exceeds the limit"
    cfg: uint256 = self._config
    remaining: uint256 = max_limit
    if cfg & LIMITED_BIT != 0:
        remaining = min(self._current_limit(), max_limit)
    self._limit_params = (increase_per_block << 128) | max_limit
    self._limit_state = (block.number << 128) | remaining
    self._config = cfg | LIMITED_BIT
    log StakingLimitSet(max_limit=max_limit, increase_per_block=increase_per_block)


@external
def remove_staking_limit():
    assert access_control.hasRole[STAKING_CONTROL_ROLE][msg.sender], "pool: caller lacks STAKING_CONTROL_ROLE"
    cfg: uint256 = self._config
    assert cfg & LIMITED_BIT != 0, "pool: no staking limit set"
    self._config = cfg & ~LIMITED_BIT
    log StakingLimitRemoved()


# ---------------------------------------------------------------- governance


@external
def set_parameters(
    min_deposit: uint256,
    fee_bps: uint256,
    fee_recipient: address,
    max_apr_bps: uint256,
    max_loss_bps: uint256,
    max_finalize_requests: uint256,
):
    """@notice Governance (DEFAULT_ADMIN_ROLE) sets every economic parameter at once."""
    assert access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender], "pool: caller is not admin"
    assert min_deposit != 0, "pool: zero minimum deposit"
    assert min_deposit <= MASK88, "pool: minimum deposit too large"
    assert fee_bps <= BPS // 2, "pool: fee above 50%"
    assert fee_recipient != empty(address), "pool: fee recipient is the zero address"
    assert max_apr_bps != 0 and max_apr_bps <= 100 * BPS, "pool: APR limit out of range"
    assert max_loss_bps < BPS, "pool: loss limit must be below 100%"
    assert max_finalize_requests != 0 and max_finalize_requests <= 1_000, "pool: finalize batch out of range"
    self._config = (self._config & ~(MASK88 << 160)) | (min_deposit << 160)
    self.fee_bps = fee_bps
    self.fee_recipient = fee_recipient
    self.max_apr_bps = max_apr_bps
    self.max_loss_bps = max_loss_bps
    self.max_finalize_requests = max_finalize_requests
    log ParametersChanged(
        min_deposit=min_deposit,
        fee_bps=fee_bps,
        fee_recipient=fee_recipient,
        max_apr_bps=max_apr_bps,
        max_loss_bps=max_loss_bps,
        max_finalize_requests=max_finalize_requests,
    )

# pragma version ~=0.4.3
"""
@title Nektar distributor vault (LRT): an ERC-4626 vault over wdivETH spread across operators
@notice Holders deposit wdivETH and receive receipts (shares). The vault restakes every deposit
        in the RestakingVault across its operators by weight (basis points summing to 10,000),
        through one sub-account per operator (the RestakingVault allows one delegation per
        address). total_assets reads the RestakingVault's value of those positions, so a slash
        of one operator lowers the share price pro rata for every holder.
        Withdrawals: restaked stake unbonds, so ERC-4626 withdraw/redeem serve only the idle
        balance (max_withdraw/max_redeem say how much, never revert); the full path is
        request_redeem(shares) -> complete_redeem(id) after the RestakingVault's delay. A
        request queues the holder's pro-rata slice of every position, so a slash during the
        delay hits the requester's queued slice exactly as it hits everyone's active stake.
        Fee: fee_bps of every deposit, paid to the manager at deposit time, and fee_bps of
        every network reward harvested.
        Rewards: networks pay the sub-accounts' positions in their reward tokens; anyone may
        harvest(token, network, operator_index) them into the vault, and holders claim their
        share per receipt through one reward-per-share accumulator per token (at most
        MAX_REWARD_TOKENS, registered by the manager), settled on every receipt change (mint,
        burn, transfer): a claim is O(1) and nothing expires.
        Receipts are transferable or not, fixed at creation.
@dev    Rounding always favours the vault: deposit/redeem round shares/assets down, mint/
        withdraw round up; virtual shares (1e3) and a virtual wei defeat the inflation attack;
        idle wdivETH is tracked in storage, so donations change nothing.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626

implements: IERC4626

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.approve,
    erc20.allowance,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
)


interface IRestakingVault:
    def shares(restaker: address) -> uint256: view
    def value_of(restaker: address) -> uint256: view
    def withdrawal_value(withdrawal_id: uint256) -> uint256: view


interface IAccount:
    def initialize(vault: address, asset: address, operator: address): nonpayable
    def stake(amount: uint256): nonpayable
    def queue(amount_shares: uint256) -> uint256: nonpayable
    def complete(withdrawal_id: uint256) -> uint256: nonpayable
    def claim_rewards(token: address, network: address, gen: uint256) -> uint256: nonpayable


event RedeemRequested:
    request_id: indexed(uint256)
    owner: indexed(address)
    shares: uint256
    idle_assets: uint256


event RedeemCompleted:
    request_id: indexed(uint256)
    owner: indexed(address)
    assets: uint256


event WeightsSet:
    weights: DynArray[uint256, MAX_OPERATORS]


event Rebalanced:
    queued: uint256
    restaked: uint256


event RewardTokenAdded:
    token: indexed(address)


event Harvested:
    token: indexed(address)
    network: indexed(address)
    operator: indexed(address)
    amount: uint256
    fee: uint256


event RewardsClaimed:
    token: indexed(address)
    holder: indexed(address)
    amount: uint256


struct Request:
    owner: address
    idle_assets: uint256
    accounts: DynArray[uint8, MAX_OPERATORS]
    withdrawals: DynArray[uint256, MAX_OPERATORS]


MAX_OPERATORS: constant(uint256) = 16
BPS: constant(uint256) = 10_000
MAX_FEE_BPS: constant(uint256) = 1_000
VIRTUAL_SHARES: constant(uint256) = 10**3
MAX_REWARD_TOKENS: constant(uint256) = 4
ACC: constant(uint256) = 10**36  # reward-per-share scale

asset: public(immutable(address))
_ASSET: immutable(IERC20)
_VAULT: immutable(IRestakingVault)
restaking_vault: public(immutable(address))
transferable: public(immutable(bool))

manager: public(address)
fee_bps: public(uint256)
operators: public(DynArray[address, MAX_OPERATORS])
accounts: public(DynArray[address, MAX_OPERATORS])
weights: public(DynArray[uint256, MAX_OPERATORS])
idle: public(uint256)

rebalance_accounts: DynArray[uint8, MAX_OPERATORS]
rebalance_withdrawals: public(DynArray[uint256, MAX_OPERATORS])

request: HashMap[uint256, Request]
request_count: public(uint256)

total_deposited: public(uint256)  # wdivETH taken from depositors, fees included
total_fees: public(uint256)  # wdivETH paid to the manager
total_paid: public(uint256)  # wdivETH paid to holders (withdraw/redeem/complete_redeem)

# rewards: every amount below marked "scaled" is in reward units × ACC, so that a holder's
# rounding loss is under one unit over its whole life, not one per settlement
reward_tokens: public(DynArray[address, MAX_REWARD_TOKENS])
reward_per_share: public(HashMap[address, uint256])  # token -> scaled per receipt
_reward_carry: HashMap[address, uint256]  # token -> scaled, not yet spread over receipts
_reward_debt: HashMap[address, HashMap[address, uint256]]  # token -> holder -> per share seen
_reward_owed: HashMap[address, HashMap[address, uint256]]  # token -> holder -> scaled
total_harvested: public(HashMap[address, uint256])  # fees included
total_reward_fees: public(HashMap[address, uint256])
total_rewards_claimed: public(HashMap[address, uint256])


@deploy
def __init__(
    asset_: address,
    restaking_vault_: address,
    account_impl: address,
    manager_: address,
    operators_: DynArray[address, MAX_OPERATORS],
    weights_: DynArray[uint256, MAX_OPERATORS],
    fee_bps_: uint256,
    transferable_: bool,
    name_: String[25],
    symbol_: String[5],
):
    assert asset_ != empty(address) and restaking_vault_ != empty(address), "zero address"
    assert manager_ != empty(address), "zero manager"
    assert len(operators_) > 0, "no operators"
    assert fee_bps_ <= MAX_FEE_BPS, "fee above maximum"
    asset = asset_
    _ASSET = IERC20(asset_)
    _VAULT = IRestakingVault(restaking_vault_)
    restaking_vault = restaking_vault_
    transferable = transferable_
    ownable.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")
    self.manager = manager_
    self.fee_bps = fee_bps_
    self.operators = operators_
    self._set_weights(weights_)
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(operators_):
            break
        op: address = operators_[i]
        for j: uint256 in range(MAX_OPERATORS):
            if j == i:
                break
            assert operators_[j] != op, "duplicate operator"
        account: address = create_minimal_proxy_to(account_impl)
        extcall IAccount(account).initialize(restaking_vault_, asset_, op)
        self.accounts.append(account)


# ---------------------------------------------------------------- receipts


@external
def transfer(to: address, amount: uint256) -> bool:
    assert transferable, "receipts are not transferable"
    self._settle(msg.sender)
    self._settle(to)
    erc20._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    assert transferable, "receipts are not transferable"
    erc20._spend_allowance(owner, msg.sender, amount)
    self._settle(owner)
    self._settle(to)
    erc20._transfer(owner, to, amount)
    return True


# ---------------------------------------------------------------- rewards


@internal
@view
def _accrued(token: address, holder: address) -> (uint256, uint256):
    """(reward per share now, the holder's scaled rewards including those not settled)."""
    acc: uint256 = self.reward_per_share[token]
    owed: uint256 = self._reward_owed[token][holder]
    return acc, owed + erc20.balanceOf[holder] * (acc - self._reward_debt[token][holder])


@internal
def _settle(holder: address):
    """Book the holder's rewards at its current receipts; called before any receipt change."""
    for token: address in self.reward_tokens:
        acc: uint256 = self.reward_per_share[token]
        debt: uint256 = self._reward_debt[token][holder]
        if acc != debt:
            balance: uint256 = erc20.balanceOf[holder]
            if balance > 0:
                self._reward_owed[token][holder] += balance * (acc - debt)
            self._reward_debt[token][holder] = acc


@internal
def _pay(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), (
        "reward transfer failed"
    )


@external
def add_reward_token(token: address):
    """@notice Register a network's reward token (manager; at most MAX_REWARD_TOKENS, for
            good: holders' claims on it must stay reachable)."""
    self._only_manager()
    assert token != empty(address), "zero address"
    assert token != asset, "the asset is not a reward token"
    assert token not in self.reward_tokens, "reward token already added"
    assert len(self.reward_tokens) < MAX_REWARD_TOKENS, "too many reward tokens"
    self.reward_tokens.append(token)
    log RewardTokenAdded(token=token)


@external
@view
def reward_token_count() -> uint256:
    return len(self.reward_tokens)


@external
@view
def operator_count() -> uint256:
    return len(self.operators)


@external
@nonreentrant
def harvest(token: address, network: address, operator_index: uint256, gen: uint256 = 0) -> uint256:
    """
    @notice Anyone: claim the `token` rewards `network` paid the position with operator
            `operator_index` (opt-in generation `gen`, 0: the current one) into the vault; the
            manager takes fee_bps, the rest is spread over the receipts existing now (with no
            receipts it waits for the next harvest). Returns the amount harvested.
    """
    assert token in self.reward_tokens, "unknown reward token"
    assert operator_index < len(self.accounts), "unknown operator"
    received: uint256 = extcall IAccount(self.accounts[operator_index]).claim_rewards(
        token, network, gen
    )
    fee: uint256 = self._fee_of(received)
    if fee > 0:
        self._pay(token, self.manager, fee)
    scaled: uint256 = (received - fee) * ACC + self._reward_carry[token]
    supply: uint256 = erc20.totalSupply
    if supply > 0:
        step: uint256 = scaled // supply
        self.reward_per_share[token] += step
        scaled -= step * supply
    self._reward_carry[token] = scaled
    self.total_harvested[token] += received
    self.total_reward_fees[token] += fee
    log Harvested(
        token=token,
        network=network,
        operator=self.operators[operator_index],
        amount=received,
        fee=fee,
    )
    return received


@external
@view
def undistributed_rewards(token: address) -> uint256:
    """@notice Harvested `token` rewards (whole units) waiting for receipts to exist."""
    return self._reward_carry[token] // ACC


@external
@view
def claimable_rewards(token: address, holder: address) -> uint256:
    """@notice `token` rewards `holder` may claim now (harvested rewards only)."""
    acc: uint256 = 0
    owed: uint256 = 0
    acc, owed = self._accrued(token, holder)
    return owed // ACC


@external
@nonreentrant
def claim_rewards(token: address) -> uint256:
    """@notice Pay the caller its `token` rewards: O(1) whatever the harvests since its last
            claim; the sub-unit remainder stays booked for the next claim."""
    acc: uint256 = 0
    owed: uint256 = 0
    acc, owed = self._accrued(token, msg.sender)
    amount: uint256 = owed // ACC
    assert amount > 0, "nothing to claim"
    self._reward_owed[token][msg.sender] = owed % ACC
    self._reward_debt[token][msg.sender] = acc
    self.total_rewards_claimed[token] += amount
    self._pay(token, msg.sender, amount)
    log RewardsClaimed(token=token, holder=msg.sender, amount=amount)
    return amount


# ---------------------------------------------------------------- accounting


@internal
@view
def _total_assets() -> uint256:
    total: uint256 = self.idle
    for account: address in self.accounts:
        total += staticcall _VAULT.value_of(account)
    for wid: uint256 in self.rebalance_withdrawals:
        total += staticcall _VAULT.withdrawal_value(wid)
    return total


@external
@view
def totalAssets() -> uint256:
    """@notice Idle wdivETH + value of every restaked position, active and rebalancing."""
    return self._total_assets()


@internal
@view
def _to_shares(assets: uint256, round_up: bool) -> uint256:
    num: uint256 = assets * (erc20.totalSupply + VIRTUAL_SHARES)
    den: uint256 = self._total_assets() + 1
    if round_up:
        return (num + den - 1) // den
    return num // den


@internal
@view
def _to_assets(shares: uint256, round_up: bool) -> uint256:
    num: uint256 = shares * (self._total_assets() + 1)
    den: uint256 = erc20.totalSupply + VIRTUAL_SHARES
    if round_up:
        return (num + den - 1) // den
    return num // den


@internal
@view
def _fee_of(gross: uint256) -> uint256:
    return (gross * self.fee_bps + BPS - 1) // BPS


@internal
@view
def _gross_for(net: uint256) -> uint256:
    fee: uint256 = self.fee_bps
    return (net * BPS + BPS - fee - 1) // (BPS - fee)


@external
@view
def convertToShares(assets: uint256) -> uint256:
    return self._to_shares(assets, False)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


@external
@view
def maxDeposit(receiver: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxMint(receiver: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """@notice What withdraw() pays now: the owner's assets, capped by the idle balance."""
    return min(self._to_assets(erc20.balanceOf[owner], False), self.idle)


@external
@view
def maxRedeem(owner: address) -> uint256:
    """@notice What redeem() accepts now: the owner's shares, capped by the idle balance."""
    return min(erc20.balanceOf[owner], self._to_shares(self.idle, False))


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    return self._to_shares(assets - self._fee_of(assets), False)


@external
@view
def previewMint(shares: uint256) -> uint256:
    return self._gross_for(self._to_assets(shares, True))


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    return self._to_shares(assets, True)


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


# ---------------------------------------------------------------- deposits


@internal
def _stake_by_weight(amount: uint256):
    """Send `amount` to the operators by weight; the last weighted operator takes the rest."""
    last: uint256 = 0
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(self.weights):
            break
        if self.weights[i] > 0:
            last = i
    left: uint256 = amount
    for i: uint256 in range(MAX_OPERATORS):
        if i > last:
            break
        part: uint256 = left if i == last else amount * self.weights[i] // BPS
        if part > 0:
            self._stake(i, part)
            left -= part


@internal
def _stake(i: uint256, amount: uint256):
    account: address = self.accounts[i]
    extcall _ASSET.transfer(account, amount)
    extcall IAccount(account).stake(amount)


@internal
def _deposit(gross: uint256, net: uint256, shares: uint256, receiver: address):
    assert shares > 0, "zero shares"
    fee: uint256 = gross - net
    extcall _ASSET.transferFrom(msg.sender, self, gross)
    if fee > 0:
        extcall _ASSET.transfer(self.manager, fee)
    self._stake_by_weight(net)
    self._settle(receiver)
    erc20._mint(receiver, shares)
    self.total_deposited += gross
    self.total_fees += fee
    log IERC4626.Deposit(sender=msg.sender, owner=receiver, assets=gross, shares=shares)


@external
@nonreentrant
def deposit(assets: uint256, receiver: address) -> uint256:
    """@notice Deposit `assets` wdivETH (fee included); the rest is restaked by weight."""
    net: uint256 = assets - self._fee_of(assets)
    shares: uint256 = self._to_shares(net, False)
    self._deposit(assets, net, shares, receiver)
    return shares


@external
@nonreentrant
def mint(shares: uint256, receiver: address) -> uint256:
    """@notice Mint exactly `shares`; returns the wdivETH taken (fee included)."""
    net: uint256 = self._to_assets(shares, True)
    gross: uint256 = self._gross_for(net)
    self._deposit(gross, net, shares, receiver)
    return gross


# ---------------------------------------------------------------- instant exits (idle only)


@internal
def _exit(assets: uint256, shares: uint256, receiver: address, owner: address):
    assert shares > 0 and assets > 0, "zero amount"
    assert assets <= self.idle, "not enough idle assets: use request_redeem"
    if msg.sender != owner:
        erc20._spend_allowance(owner, msg.sender, shares)
    self._settle(owner)
    erc20._burn(owner, shares)
    self.idle -= assets
    self.total_paid += assets
    extcall _ASSET.transfer(receiver, assets)
    log IERC4626.Withdraw(
        sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares
    )


@external
@nonreentrant
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    shares: uint256 = self._to_shares(assets, True)
    self._exit(assets, shares, receiver, owner)
    return shares


@external
@nonreentrant
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    assets: uint256 = self._to_assets(shares, False)
    self._exit(assets, shares, receiver, owner)
    return assets


# ---------------------------------------------------------------- queued exits


@external
@nonreentrant
def request_redeem(shares: uint256) -> uint256:
    """
    @notice Burn `shares` and queue the caller's pro-rata slice of every restaked position
            (rounded down) plus its slice of the idle balance; returns the request id.
    """
    assert shares > 0, "zero shares"
    assert shares <= erc20.balanceOf[msg.sender], "not enough shares"
    assert len(self.rebalance_withdrawals) == 0, "rebalance in progress"
    supply: uint256 = erc20.totalSupply
    req: Request = empty(Request)
    req.owner = msg.sender
    req.idle_assets = self.idle * shares // supply
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(self.accounts):
            break
        portion: uint256 = staticcall _VAULT.shares(self.accounts[i]) * shares // supply
        if portion > 0:
            req.accounts.append(convert(i, uint8))
            req.withdrawals.append(extcall IAccount(self.accounts[i]).queue(portion))
    self._settle(msg.sender)
    erc20._burn(msg.sender, shares)
    self.idle -= req.idle_assets
    request_id: uint256 = self.request_count + 1
    self.request_count = request_id
    self.request[request_id] = req
    log RedeemRequested(
        request_id=request_id, owner=msg.sender, shares=shares, idle_assets=req.idle_assets
    )
    return request_id


@external
@view
def request_value(request_id: uint256) -> uint256:
    """@notice wdivETH a pending request pays now (its queued slices are still slashable)."""
    req: Request = self.request[request_id]
    total: uint256 = req.idle_assets
    for wid: uint256 in req.withdrawals:
        total += staticcall _VAULT.withdrawal_value(wid)
    return total


@external
@view
def request_owner(request_id: uint256) -> address:
    return self.request[request_id].owner


@external
@nonreentrant
def complete_redeem(request_id: uint256) -> uint256:
    """@notice Pay a request whose withdrawals have all matured (anyone may call)."""
    req: Request = self.request[request_id]
    assert req.owner != empty(address), "unknown request"
    paid: uint256 = req.idle_assets
    for k: uint256 in range(MAX_OPERATORS):
        if k == len(req.withdrawals):
            break
        account: address = self.accounts[convert(req.accounts[k], uint256)]
        paid += extcall IAccount(account).complete(req.withdrawals[k])
    self.request[request_id] = empty(Request)
    self.total_paid += paid
    if paid > 0:
        extcall _ASSET.transfer(req.owner, paid)
    log RedeemCompleted(request_id=request_id, owner=req.owner, assets=paid)
    return paid


# ---------------------------------------------------------------- manager


@internal
def _only_manager():
    assert msg.sender == self.manager, "not the manager"


@internal
def _set_weights(weights_: DynArray[uint256, MAX_OPERATORS]):
    assert len(weights_) == len(self.operators), "one weight per operator"
    total: uint256 = 0
    for w: uint256 in weights_:
        total += w
    assert total == BPS, "weights must sum to 10000"
    self.weights = weights_
    log WeightsSet(weights=weights_)


@external
def set_weights(weights_: DynArray[uint256, MAX_OPERATORS]):
    """@notice New target weights (take effect for deposits now, for stake at rebalance)."""
    self._only_manager()
    self._set_weights(weights_)


@external
def set_fee(fee_bps_: uint256):
    self._only_manager()
    assert fee_bps_ <= MAX_FEE_BPS, "fee above maximum"
    self.fee_bps = fee_bps_


@external
def set_manager(manager_: address):
    self._only_manager()
    assert manager_ != empty(address), "zero manager"
    self.manager = manager_


@internal
def _restake_idle() -> uint256:
    """Restake the idle balance toward the weights: fill deficits, then by weight."""
    values: DynArray[uint256, MAX_OPERATORS] = []
    total: uint256 = self.idle
    for account: address in self.accounts:
        v: uint256 = staticcall _VAULT.value_of(account)
        values.append(v)
        total += v
    left: uint256 = self.idle
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(values) or left == 0:
            break
        target: uint256 = total * self.weights[i] // BPS
        if target > values[i]:
            part: uint256 = min(target - values[i], left)
            self._stake(i, part)
            left -= part
    restaked: uint256 = self.idle - left
    self.idle = left
    return restaked


@external
@nonreentrant
def rebalance():
    """
    @notice Queue withdrawals of every position above its target weight; idle wdivETH goes
            to the positions below target now, the queued stake after `finish_rebalance`.
    """
    self._only_manager()
    assert len(self.rebalance_withdrawals) == 0, "rebalance in progress"
    total: uint256 = self.idle
    values: DynArray[uint256, MAX_OPERATORS] = []
    for account: address in self.accounts:
        v: uint256 = staticcall _VAULT.value_of(account)
        values.append(v)
        total += v
    queued: uint256 = 0
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(values):
            break
        target: uint256 = total * self.weights[i] // BPS
        if values[i] > target:
            account: address = self.accounts[i]
            excess: uint256 = staticcall _VAULT.shares(account) * (values[i] - target) // values[i]
            if excess > 0:
                self.rebalance_accounts.append(convert(i, uint8))
                self.rebalance_withdrawals.append(extcall IAccount(account).queue(excess))
                queued += values[i] - target
    log Rebalanced(queued=queued, restaked=self._restake_idle())


@external
@view
def rebalance_pending() -> bool:
    """@notice True while rebalance withdrawals wait for their delay (redeems are paused)."""
    return len(self.rebalance_withdrawals) > 0


@external
@nonreentrant
def finish_rebalance():
    """@notice Complete the matured rebalance withdrawals and restake toward the weights."""
    assert len(self.rebalance_withdrawals) > 0, "no rebalance in progress"
    received: uint256 = 0
    for k: uint256 in range(MAX_OPERATORS):
        if k == len(self.rebalance_withdrawals):
            break
        account: address = self.accounts[convert(self.rebalance_accounts[k], uint256)]
        received += extcall IAccount(account).complete(self.rebalance_withdrawals[k])
    self.rebalance_accounts = []
    self.rebalance_withdrawals = []
    self.idle += received
    log Rebalanced(queued=0, restaked=self._restake_idle())

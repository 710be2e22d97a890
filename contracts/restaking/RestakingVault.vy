# pragma version ~=0.4.3
"""
@title Nektar restaking vault (wdivETH): shares, delegation, withdrawals, slashing, rewards
@notice Restakers deposit wdivETH (the only LST accepted) and delegate everything to one
        operator of the Diva OperatorRegistry. Each operator has two share pools, *active*
        and *queued*; a restaker owns active shares of its operator's pool, a queued
        withdrawal owns queued shares. A slash lowers a pool's assets, so it reaches every
        restaker and every queued withdrawal of the operator pro rata in O(1).
@dev    Trouble spots designed out (docs/restaking-marketplace.md):
        - inflation: virtual shares and a virtual wei (price = (assets + 1) / (shares + 1e3));
        - slash rounding: slashed amounts round up, share values round down, shares never
          become unusable (any amount of shares can be queued, even worth 0);
        - a slash requested before a deposit: the request *reserves* its amount at once and
          pools are priced net of reservations, so later deposits never pay for it;
        - queued withdrawals are in the queued pool and are slashed like active stake;
        - a 100%-slashed operator: no division by zero anywhere (virtual wei); deposits to it
          revert by name, everything else keeps working; a wiped queued pool starts a new
          generation so that new withdrawals are never diluted into it;
        - loops are bounded by MAX_NETWORKS (networks one operator serves).
        Rewards: one accumulator per (token, network, operator, opt-in generation) in reward
        units per active share; a restaker's position per accumulator is settled whenever its
        shares change (≤ MAX_NETWORKS accumulators), so a claim is O(1).
"""

from ethereum.ercs import IERC20


interface IOperatorRegistry:
    def operator_id(operator: address) -> uint256: view


interface INetworkRegistry:
    def max_unbonding(operator: address) -> uint256: view


event Deposited:
    restaker: indexed(address)
    operator: indexed(address)
    amount: uint256
    shares: uint256

event Delegated:
    restaker: indexed(address)
    operator: indexed(address)

event Undelegated:
    restaker: indexed(address)
    operator: indexed(address)

event WithdrawalQueued:
    withdrawal_id: indexed(uint256)
    restaker: indexed(address)
    operator: indexed(address)
    amount: uint256
    completable_at: uint256

event WithdrawalCompleted:
    withdrawal_id: indexed(uint256)
    restaker: indexed(address)
    amount: uint256

event SlashReserved:
    operator: indexed(address)
    active: uint256
    queued: uint256

event SlashReleased:
    operator: indexed(address)
    active: uint256
    queued: uint256

event Slashed:
    operator: indexed(address)
    active: uint256
    queued: uint256
    destination: address

event RewardsCredited:
    network: indexed(address)
    operator: indexed(address)
    key: bytes32
    amount: uint256
    commission: uint256

event RewardsClaimed:
    key: indexed(bytes32)
    restaker: indexed(address)
    amount: uint256


struct Pool:
    assets: uint256
    shares: uint256
    reserved: uint256


struct Withdrawal:
    restaker: address
    operator: address
    generation: uint256
    shares: uint256
    completable_at: uint256


struct Position:
    debt: uint256
    packed: uint256  # SETTLED | basis (active shares at last settlement) << 128 | owed


WAD: constant(uint256) = 10**18
ACC: constant(uint256) = 10**36
VIRTUAL_SHARES: constant(uint256) = 10**3
MAX_NETWORKS: constant(uint256) = 8
MASK128: constant(uint256) = 2**128 - 1
MASK192: constant(uint256) = 2**192 - 1
MASK127: constant(uint256) = 2**127 - 1
SETTLED: constant(uint256) = 2**255
BURN: constant(address) = 0x000000000000000000000000000000000000dEaD

ASSET: public(immutable(IERC20))
OPERATORS: public(immutable(IOperatorRegistry))

governance: public(address)
network_registry: public(INetworkRegistry)
min_withdrawal_delay: public(uint256)

active_pool: public(HashMap[address, Pool])
queued_pool: public(HashMap[address, HashMap[uint256, Pool]])
queue_generation: public(HashMap[address, uint256])

delegated_to: public(HashMap[address, address])
shares: public(HashMap[address, uint256])
requires_approval: public(HashMap[address, bool])
approved: public(HashMap[address, HashMap[address, bool]])
commission_bps: public(HashMap[address, uint256])

withdrawal: public(HashMap[uint256, Withdrawal])
withdrawal_count: public(uint256)

total_deposited: public(uint256)
total_withdrawn: public(uint256)
total_slashed: public(uint256)

# stake checkpoints per operator: timestamp << 192 | stake
_trace: HashMap[address, HashMap[uint256, uint256]]
trace_length: public(HashMap[address, uint256])

# rewards
reward_keys: HashMap[address, DynArray[bytes32, MAX_NETWORKS]]
generation: public(HashMap[address, HashMap[address, uint256]])  # network -> operator -> n
accumulator: public(HashMap[bytes32, uint256])
_position: HashMap[bytes32, HashMap[address, Position]]
commission_owed: public(HashMap[address, HashMap[address, uint256]])  # token -> operator
unallocated: public(HashMap[address, HashMap[address, uint256]])  # token -> network
rewards_funded: public(HashMap[address, uint256])
rewards_claimed: public(HashMap[address, uint256])


@deploy
def __init__(asset: address, operators: address, min_withdrawal_delay: uint256):
    assert asset != empty(address) and operators != empty(address), "zero address"
    ASSET = IERC20(asset)
    OPERATORS = IOperatorRegistry(operators)
    self.governance = msg.sender
    self.min_withdrawal_delay = min_withdrawal_delay


@external
def set_network_registry(registry: address):
    """@notice Once, by governance: the marketplace that may reserve and apply slashes."""
    assert msg.sender == self.governance, "not governance"
    assert self.network_registry.address == empty(address), "registry already set"
    self.network_registry = INetworkRegistry(registry)


@external
def set_min_withdrawal_delay(delay: uint256):
    assert msg.sender == self.governance, "not governance"
    self.min_withdrawal_delay = delay


# ------------------------------------------------------------------ pricing


@internal
@pure
def _to_shares(amount: uint256, pool: Pool) -> uint256:
    return amount * (pool.shares + VIRTUAL_SHARES) // (pool.assets - pool.reserved + 1)


@internal
@pure
def _to_assets(shares: uint256, pool: Pool) -> uint256:
    return shares * (pool.assets - pool.reserved + 1) // (pool.shares + VIRTUAL_SHARES)


@internal
@view
def _stake(operator: address) -> uint256:
    a: Pool = self.active_pool[operator]
    q: Pool = self.queued_pool[operator][self.queue_generation[operator]]
    return a.assets - a.reserved + q.assets - q.reserved


@internal
def _checkpoint(operator: address):
    """Record the operator's slashable stake (net of reservations) for `stake_at`."""
    stake: uint256 = self._stake(operator)
    n: uint256 = self.trace_length[operator]
    word: uint256 = (block.timestamp << 192) | stake
    if n > 0 and self._trace[operator][n - 1] >> 192 == block.timestamp:
        self._trace[operator][n - 1] = word
    else:
        self._trace[operator][n] = word
        self.trace_length[operator] = n + 1


@external
@view
def stake(operator: address) -> uint256:
    """@notice Slashable stake delegated to `operator` (active + queued, net of reservations)."""
    return self._stake(operator)


@external
@view
def stake_at(operator: address, timestamp: uint256) -> uint256:
    """@notice The operator's slashable stake as of `timestamp` (binary search, ≤ 64 steps)."""
    low: uint256 = 0
    high: uint256 = self.trace_length[operator]
    for _: uint256 in range(64):
        if low >= high:
            break
        mid: uint256 = (low + high) // 2
        if self._trace[operator][mid] >> 192 > timestamp:
            high = mid
        else:
            low = mid + 1
    if low == 0:
        return 0
    return self._trace[operator][low - 1] & MASK192


@external
@view
def value_of(restaker: address) -> uint256:
    """@notice wdivETH the restaker's active shares are worth now (rounded down)."""
    return self._to_assets(self.shares[restaker], self.active_pool[self.delegated_to[restaker]])


@external
@view
def withdrawal_value(withdrawal_id: uint256) -> uint256:
    """@notice wdivETH a queued withdrawal is worth now (rounded down)."""
    w: Withdrawal = self.withdrawal[withdrawal_id]
    return self._to_assets(w.shares, self.queued_pool[w.operator][w.generation])


# ------------------------------------------------------------------ rewards bookkeeping


@internal
@view
def _owed(key: bytes32, restaker: address, operator: address) -> (uint256, uint256, uint256):
    """(accumulator, basis, owed). A restaker never settled on `key` has held the same
    shares since the key was created (any change settles every key of its operator)."""
    acc: uint256 = self.accumulator[key]
    pos: Position = self._position[key][restaker]
    basis: uint256 = (pos.packed >> 128) & MASK127
    if pos.packed & SETTLED == 0 and self.delegated_to[restaker] == operator:
        basis = self.shares[restaker]
    return acc, basis, (pos.packed & MASK128) + basis * (acc - pos.debt) // ACC


@internal
def _settle(restaker: address, operator: address, new_shares: uint256):
    """Bring every accumulator of `operator` up to date for `restaker`, then set its basis."""
    for key: bytes32 in self.reward_keys[operator]:
        acc: uint256 = 0
        basis: uint256 = 0
        owed: uint256 = 0
        acc, basis, owed = self._owed(key, restaker, operator)
        assert owed <= MASK128, "reward overflow"
        self._position[key][restaker] = Position(
            debt=acc, packed=SETTLED | (new_shares << 128) | owed
        )


@internal
def _set_shares(restaker: address, operator: address, new_shares: uint256):
    self._settle(restaker, operator, new_shares)
    self.shares[restaker] = new_shares


# ------------------------------------------------------------------ operators


@internal
@view
def _is_operator(operator: address) -> bool:
    return staticcall OPERATORS.operator_id(operator) != 0


@external
def set_requires_approval(required: bool):
    """@notice An operator may accept delegations only from restakers it approved."""
    assert self._is_operator(msg.sender), "not an operator"
    self.requires_approval[msg.sender] = required


@external
def approve_restaker(restaker: address, allowed: bool):
    assert self._is_operator(msg.sender), "not an operator"
    self.approved[msg.sender][restaker] = allowed


@external
def set_commission(bps: uint256):
    """@notice The operator's share of the rewards networks pay for its stake."""
    assert self._is_operator(msg.sender), "not an operator"
    assert bps <= 10_000, "commission above 100%"
    self.commission_bps[msg.sender] = bps


# ------------------------------------------------------------------ restakers


@internal
def _delegate(restaker: address, operator: address):
    assert self._is_operator(operator), "not an operator"
    if self.requires_approval[operator]:
        assert self.approved[operator][restaker], "operator approval required"
    self.delegated_to[restaker] = operator
    log Delegated(restaker=restaker, operator=operator)


@external
@nonreentrant
def deposit(amount: uint256, operator: address) -> uint256:
    """
    @notice Deposit wdivETH and delegate it to `operator` (delegates on first use).
    @return The active shares minted.
    """
    current: address = self.delegated_to[msg.sender]
    if current == empty(address):
        self._delegate(msg.sender, operator)
    else:
        assert current == operator, "delegated to another operator"
    pool: Pool = self.active_pool[operator]
    assert pool.shares == 0 or pool.assets > pool.reserved, "operator fully slashed"
    minted: uint256 = self._to_shares(amount, pool)
    assert minted > 0, "deposit too small"
    extcall ASSET.transferFrom(msg.sender, self, amount)
    self._set_shares(msg.sender, operator, self.shares[msg.sender] + minted)
    self.active_pool[operator] = Pool(
        assets=pool.assets + amount, shares=pool.shares + minted, reserved=pool.reserved
    )
    self.total_deposited += amount
    self._checkpoint(operator)
    log Deposited(restaker=msg.sender, operator=operator, amount=amount, shares=minted)
    return minted


@internal
def _queue(restaker: address, operator: address, amount_shares: uint256) -> uint256:
    assert amount_shares <= self.shares[restaker], "not enough shares"
    pool: Pool = self.active_pool[operator]
    value: uint256 = self._to_assets(amount_shares, pool)
    self._set_shares(restaker, operator, self.shares[restaker] - amount_shares)
    self.active_pool[operator] = Pool(
        assets=pool.assets - value, shares=pool.shares - amount_shares, reserved=pool.reserved
    )
    gen: uint256 = self.queue_generation[operator]
    queue: Pool = self.queued_pool[operator][gen]
    if queue.shares > 0 and queue.assets == queue.reserved:
        # wiped out by slashes: new withdrawals go to a fresh pool, never diluted into it
        gen += 1
        self.queue_generation[operator] = gen
        queue = empty(Pool)
    minted: uint256 = self._to_shares(value, queue)
    self.queued_pool[operator][gen] = Pool(
        assets=queue.assets + value, shares=queue.shares + minted, reserved=queue.reserved
    )
    delay: uint256 = max(
        self.min_withdrawal_delay, staticcall self.network_registry.max_unbonding(operator)
    )
    withdrawal_id: uint256 = self.withdrawal_count + 1
    self.withdrawal_count = withdrawal_id
    self.withdrawal[withdrawal_id] = Withdrawal(
        restaker=restaker,
        operator=operator,
        generation=gen,
        shares=minted,
        completable_at=block.timestamp + delay,
    )
    self._checkpoint(operator)
    log WithdrawalQueued(
        withdrawal_id=withdrawal_id,
        restaker=restaker,
        operator=operator,
        amount=value,
        completable_at=block.timestamp + delay,
    )
    return withdrawal_id


@external
@nonreentrant
def queue_withdrawal(amount_shares: uint256) -> uint256:
    """
    @notice Move active shares into the operator's queued pool; completable after the longest
            unbonding period of the networks the operator serves now (≥ the protocol minimum).
    """
    operator: address = self.delegated_to[msg.sender]
    assert operator != empty(address), "not delegated"
    assert amount_shares > 0, "zero shares"
    return self._queue(msg.sender, operator, amount_shares)


@external
@nonreentrant
def undelegate() -> uint256:
    """@notice Queue every share and leave the operator; returns the withdrawal id (0: none)."""
    operator: address = self.delegated_to[msg.sender]
    assert operator != empty(address), "not delegated"
    withdrawal_id: uint256 = 0
    held: uint256 = self.shares[msg.sender]
    if held > 0:
        withdrawal_id = self._queue(msg.sender, operator, held)
    self.delegated_to[msg.sender] = empty(address)
    log Undelegated(restaker=msg.sender, operator=operator)
    return withdrawal_id


@external
@nonreentrant
def redelegate(operator: address) -> uint256:
    """@notice Undelegate (queueing everything) and delegate to `operator`."""
    current: address = self.delegated_to[msg.sender]
    assert current != empty(address), "not delegated"
    assert current != operator, "already delegated to operator"
    withdrawal_id: uint256 = 0
    held: uint256 = self.shares[msg.sender]
    if held > 0:
        withdrawal_id = self._queue(msg.sender, current, held)
    log Undelegated(restaker=msg.sender, operator=current)
    self._delegate(msg.sender, operator)
    return withdrawal_id


@external
@nonreentrant
def complete_withdrawal(withdrawal_id: uint256) -> uint256:
    """
    @notice Pay a matured withdrawal to its restaker; only the restaker may complete it.
            Returns the wdivETH paid.
    @dev    Restaker-only, as in EigenLayer: a contract restaker (distributor sub-account,
            native pod) credits exactly what its own call returns, so wdivETH pushed to it by
            someone else's call would sit outside its books and strand its holders' request.
            Until completed, a matured withdrawal stays slashable: the restaker's own risk.
    """
    w: Withdrawal = self.withdrawal[withdrawal_id]
    assert w.restaker != empty(address), "unknown withdrawal"
    assert msg.sender == w.restaker, "caller is not the restaker"
    assert block.timestamp >= w.completable_at, "withdrawal delay not passed"
    pool: Pool = self.queued_pool[w.operator][w.generation]
    value: uint256 = self._to_assets(w.shares, pool)
    self.queued_pool[w.operator][w.generation] = Pool(
        assets=pool.assets - value, shares=pool.shares - w.shares, reserved=pool.reserved
    )
    self.withdrawal[withdrawal_id] = empty(Withdrawal)
    self.total_withdrawn += value
    self._checkpoint(w.operator)
    if value > 0:
        extcall ASSET.transfer(w.restaker, value)
    log WithdrawalCompleted(withdrawal_id=withdrawal_id, restaker=w.restaker, amount=value)
    return value


# ------------------------------------------------------------------ slashing (marketplace only)


@internal
@pure
def _portion(pool: Pool, fraction: uint256) -> uint256:
    free: uint256 = pool.assets - pool.reserved
    return min(free, (free * fraction + WAD - 1) // WAD)


@internal
def _only_registry():
    assert msg.sender == self.network_registry.address, "not the network registry"


@external
def reserve_slash(operator: address, fraction: uint256) -> (uint256, uint256, uint256):
    """
    @notice Reserve `fraction` (WAD, rounded up) of the operator's unreserved active and
            queued stake now: pricing excludes it at once, so stake deposited later never pays.
    @return (active amount, queued amount, queued-pool generation)
    """
    self._only_registry()
    gen: uint256 = self.queue_generation[operator]
    a: Pool = self.active_pool[operator]
    q: Pool = self.queued_pool[operator][gen]
    from_active: uint256 = self._portion(a, fraction)
    from_queue: uint256 = self._portion(q, fraction)
    self.active_pool[operator].reserved = a.reserved + from_active
    self.queued_pool[operator][gen].reserved = q.reserved + from_queue
    self._checkpoint(operator)
    log SlashReserved(operator=operator, active=from_active, queued=from_queue)
    return from_active, from_queue, gen


@external
def release_slash(operator: address, from_active: uint256, from_queue: uint256, gen: uint256):
    """@notice A vetoed request gives its reservation back to the pools."""
    self._only_registry()
    self.active_pool[operator].reserved -= from_active
    self.queued_pool[operator][gen].reserved -= from_queue
    self._checkpoint(operator)
    log SlashReleased(operator=operator, active=from_active, queued=from_queue)


@internal
def _apply(operator: address, from_active: uint256, from_queue: uint256, gen: uint256, to: address):
    if from_active > 0:
        a: Pool = self.active_pool[operator]
        self.active_pool[operator] = Pool(
            assets=a.assets - from_active, shares=a.shares, reserved=a.reserved - from_active
        )
    if from_queue > 0:
        q: Pool = self.queued_pool[operator][gen]
        self.queued_pool[operator][gen] = Pool(
            assets=q.assets - from_queue, shares=q.shares, reserved=q.reserved - from_queue
        )
    total: uint256 = from_active + from_queue
    self.total_slashed += total
    destination: address = to
    if destination == empty(address):
        destination = BURN
    if total > 0:
        extcall ASSET.transfer(destination, total)
    log Slashed(operator=operator, active=from_active, queued=from_queue, destination=destination)


@external
def execute_slash(operator: address, from_active: uint256, from_queue: uint256, gen: uint256, to: address):
    """@notice Take a reserved slash out of the pools and send it to `to` (zero: burn)."""
    self._only_registry()
    self._apply(operator, from_active, from_queue, gen, to)


@external
def slash_now(operator: address, fraction: uint256, to: address) -> uint256:
    """@notice Reserve and apply at once (provable faults need no veto). Returns the amount."""
    self._only_registry()
    gen: uint256 = self.queue_generation[operator]
    from_active: uint256 = self._portion(self.active_pool[operator], fraction)
    from_queue: uint256 = self._portion(self.queued_pool[operator][gen], fraction)
    self.active_pool[operator].reserved += from_active
    self.queued_pool[operator][gen].reserved += from_queue
    self._apply(operator, from_active, from_queue, gen, to)
    self._checkpoint(operator)
    return from_active + from_queue


# ------------------------------------------------------------------ rewards


@internal
@pure
def _key(token: address, network: address, operator: address, gen: uint256) -> bytes32:
    return keccak256(abi_encode(token, network, operator, gen))


@external
@view
def reward_key(token: address, network: address, operator: address) -> bytes32:
    """@notice The accumulator of `network`'s rewards to `operator`'s current opt-in."""
    return self._key(token, network, operator, self.generation[network][operator])


@external
def on_opt_in(network: address, operator: address, token: address):
    """@notice A new accumulator for this opt-in (bounded: MAX_NETWORKS per operator)."""
    self._only_registry()
    assert len(self.reward_keys[operator]) < MAX_NETWORKS, "too many networks"
    gen: uint256 = self.generation[network][operator] + 1
    self.generation[network][operator] = gen
    self.reward_keys[operator].append(self._key(token, network, operator, gen))


@external
def on_opt_out(network: address, operator: address, token: address):
    """@notice Freeze the accumulator: positions stay claimable forever (basis is exact)."""
    self._only_registry()
    key: bytes32 = self._key(token, network, operator, self.generation[network][operator])
    keys: DynArray[bytes32, MAX_NETWORKS] = self.reward_keys[operator]
    n: uint256 = len(keys)
    for i: uint256 in range(MAX_NETWORKS):
        if i >= n:
            break
        if keys[i] == key:
            keys[i] = keys[n - 1]
            keys.pop()
            break
    self.reward_keys[operator] = keys


@external
def credit_rewards(
    network: address,
    token: address,
    operators: DynArray[address, 64],
    amounts: DynArray[uint256, 64],
    remainder: uint256,
):
    """
    @notice Book an epoch the registry already transferred here: per operator, commission to
            the operator, the rest per active share; what cannot be booked stays claimable by
            the network as `unallocated` (nothing expires).
    """
    self._only_registry()
    left: uint256 = remainder
    total: uint256 = remainder
    for i: uint256 in range(64):
        if i >= len(operators):
            break
        operator: address = operators[i]
        amount: uint256 = amounts[i]
        total += amount
        key: bytes32 = self._key(token, network, operator, self.generation[network][operator])
        commission: uint256 = amount * self.commission_bps[operator] // 10_000
        rest: uint256 = amount - commission
        active_shares: uint256 = self.active_pool[operator].shares
        booked: uint256 = 0
        if active_shares > 0:
            increment: uint256 = rest * ACC // active_shares
            self.accumulator[key] += increment
            # rounded up: restakers' claims (floored once over many epochs) never exceed it
            booked = (increment * active_shares + ACC - 1) // ACC
        self.commission_owed[token][operator] += commission
        left += rest - booked
        log RewardsCredited(
            network=network, operator=operator, key=key, amount=amount, commission=commission
        )
    self.unallocated[token][network] += left
    self.rewards_funded[token] += total


@external
@view
def claimable(key: bytes32, restaker: address, operator: address) -> uint256:
    """@notice Reward tokens `restaker` may claim from accumulator `key` of `operator`."""
    acc: uint256 = 0
    basis: uint256 = 0
    owed: uint256 = 0
    acc, basis, owed = self._owed(key, restaker, operator)
    return owed


@external
@nonreentrant
def claim(token: address, network: address, operator: address, gen: uint256) -> uint256:
    """@notice Claim the caller's rewards of one accumulator: O(1) whatever the epochs."""
    key: bytes32 = self._key(token, network, operator, gen)
    acc: uint256 = 0
    basis: uint256 = 0
    owed: uint256 = 0
    acc, basis, owed = self._owed(key, msg.sender, operator)
    assert owed > 0, "nothing to claim"
    self._position[key][msg.sender] = Position(debt=acc, packed=SETTLED | (basis << 128))
    self.rewards_claimed[token] += owed
    extcall IERC20(token).transfer(msg.sender, owed)
    log RewardsClaimed(key=key, restaker=msg.sender, amount=owed)
    return owed


@external
@nonreentrant
def claim_commission(token: address) -> uint256:
    owed: uint256 = self.commission_owed[token][msg.sender]
    assert owed > 0, "nothing to claim"
    self.commission_owed[token][msg.sender] = 0
    self.rewards_claimed[token] += owed
    extcall IERC20(token).transfer(msg.sender, owed)
    return owed


@external
@nonreentrant
def reclaim_unallocated(token: address) -> uint256:
    """@notice A network takes back what no operator's stake could receive."""
    owed: uint256 = self.unallocated[token][msg.sender]
    assert owed > 0, "nothing to claim"
    self.unallocated[token][msg.sender] = 0
    self.rewards_claimed[token] += owed
    extcall IERC20(token).transfer(msg.sender, owed)
    return owed

# pragma version ~=0.4.3
"""
@title Diva OperatorRegistry
@notice Operators register a node key (bound by an EIP-712 NodeKeyBinding proof of
        possession), a metadata URI and a fee recipient, and bond collateral in ETH, divETH
        (held as shares, so it keeps earning) or wdivETH. Capacity in key shares =
        bonded value ÷ `bond_per_share` (or, with a governed `curve_bps`, each further key
        share costs a little more). Collateral that backs no key share can leave after
        `withdrawal_delay`; under-collateralised operators can be ejected by anyone; penalties
        move collateral to stakers (ETH donated to the pool, divETH burnt, wdivETH unwrapped
        then burnt). The ValidatorRegistry reserves capacity here when it selects a cluster
        (`reserve`, weighted by free capacity) and the OperatorOracle settles rewards and
        missed-duty penalties (`settle`).
@dev Everything the selection reads sits in ONE word per operator (node address, cached
     capacity, used and active key shares, status) so that `propose` reads one cold slot per
     operator. The capacity is cached at each bond, withdrawal, penalty or `refresh`; divETH
     rebases move the real value in between, which `refresh`/`eject` pick up.
"""

from . import node_signature


interface IStakingPool:
    def token() -> address: view
    def receive_donation(): payable


interface IDivEther:
    def getPooledEthByShares(shares: uint256) -> uint256: view
    def getSharesByPooledEth(eth: uint256) -> uint256: view
    def sharesOf(account: address) -> uint256: view
    def transferShares(receiver: address, shares: uint256) -> uint256: nonpayable
    def transferSharesFrom(sender: address, receiver: address, shares: uint256) -> uint256: nonpayable
    def burn_shares(shares: uint256): nonpayable


interface IWrappedDivEther:
    def convertToAssets(shares: uint256) -> uint256: view
    def previewWithdraw(assets: uint256) -> uint256: view
    def transferFrom(sender: address, receiver: address, amount: uint256) -> bool: nonpayable
    def transfer(receiver: address, amount: uint256) -> bool: nonpayable
    def unwrap(wdiv_eth_amount: uint256) -> uint256: nonpayable


event OperatorRegistered:
    operator_id: indexed(uint256)
    operator: indexed(address)
    node: indexed(address)
    fee_recipient: address
    metadata_uri: String[256]


event OperatorUpdated:
    operator_id: indexed(uint256)
    fee_recipient: address
    metadata_uri: String[256]


event Bonded:
    operator_id: indexed(uint256)
    asset: uint256
    amount: uint256
    capacity: uint256


event WithdrawalRequested:
    operator_id: indexed(uint256)
    eth: uint256
    div_eth_shares: uint256
    wdiv_eth: uint256
    ready_at: uint256


event Withdrawn:
    operator_id: indexed(uint256)
    eth: uint256
    div_eth_shares: uint256
    wdiv_eth: uint256


event StatusChanged:
    operator_id: indexed(uint256)
    status: uint256


event Penalised:
    operator_id: indexed(uint256)
    requested: uint256
    eth: uint256
    div_eth_shares: uint256
    wdiv_eth: uint256


event RewardsSettled:
    reward_shares: uint256
    paid_shares: uint256
    burnt_shares: uint256


event OperatorRewarded:
    operator_id: indexed(uint256)
    shares: uint256
    missed_duties: uint256


event RewardsClaimed:
    operator_id: indexed(uint256)
    recipient: address
    shares: uint256


event ParametersChanged:
    bond_per_share: uint256
    withdrawal_delay: uint256


event CurveChanged:
    curve_bps: uint256


# assets: 0 = ETH (wei), 1 = divETH (shares), 2 = wdivETH (token units)
ASSET_ETH: constant(uint256) = 0
ASSET_DIV: constant(uint256) = 1
ASSET_WDIV: constant(uint256) = 2

STATUS_ACTIVE: constant(uint256) = 1
STATUS_PAUSED: constant(uint256) = 2
STATUS_EJECTED: constant(uint256) = 3

BPS: constant(uint256) = 10_000
MAX_OPERATORS: constant(uint256) = 256
MAX_CLUSTER: constant(uint256) = 16
MASK24: constant(uint256) = 2**24 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK160: constant(uint256) = 2**160 - 1
CAP_SHIFT: constant(uint256) = 160
USED_SHIFT: constant(uint256) = 184
ACTIVE_SHIFT: constant(uint256) = 208
STATUS_SHIFT: constant(uint256) = 232

BINDING_TYPEHASH: constant(bytes32) = keccak256("NodeKeyBinding(address operator)")

POOL: public(immutable(address))
TOKEN: public(immutable(address))
WRAPPER: public(immutable(address))
DOMAIN_SEPARATOR: public(immutable(bytes32))

governance: public(address)
validator_registry: public(address)
oracle: public(address)
bond_per_share: public(uint256)
# the k-th key share needs bond × (1 + (k − 1) × curve_bps / 10,000); 0 = linear
curve_bps: public(uint256)
withdrawal_delay: public(uint256)

operator_count: public(uint256)
operator_id: public(HashMap[address, uint256])
node_operator: public(HashMap[address, uint256])
operator_address: public(HashMap[uint256, address])
fee_recipient: public(HashMap[uint256, address])
# node 0..159 | capacity 160..183 | used 184..207 | active 208..231 | status 232..239
_word: HashMap[uint256, uint256]

_collateral: HashMap[uint256, uint256[3]]
_pending: HashMap[uint256, uint256[3]]
_pending_ready_at: HashMap[uint256, uint256]
reward_shares: public(HashMap[uint256, uint256])

total_deposited: public(uint256[3])
total_penalised: public(uint256[3])
total_withdrawn: public(uint256[3])
total_active_shares: public(uint256)
oracle_operator_count: public(uint256)


@deploy
def __init__(pool: address, wrapper: address):
    """@notice The deployer is governance; then call `set_protocol` once."""
    assert pool != empty(address) and wrapper != empty(address), "operator: zero address"
    POOL = pool
    TOKEN = staticcall IStakingPool(pool).token()
    WRAPPER = wrapper
    DOMAIN_SEPARATOR = node_signature._domain_separator(keccak256("Nektar OperatorRegistry"), self)
    self.governance = msg.sender
    self.bond_per_share = 10**18
    self.withdrawal_delay = 7 * 86_400


# ---------------------------------------------------------------- governance


@external
def set_protocol(validator_registry: address, oracle: address):
    """@notice Governance wires the ValidatorRegistry and OperatorOracle, once."""
    assert msg.sender == self.governance, "operator: caller is not governance"
    assert self.validator_registry == empty(address), "operator: protocol already set"
    assert validator_registry != empty(address) and oracle != empty(address), "operator: zero address"
    self.validator_registry = validator_registry
    self.oracle = oracle


@external
def set_parameters(bond_per_share: uint256, withdrawal_delay: uint256):
    """@notice Governance sets the bond per key share (wei) and the withdrawal delay (s)."""
    assert msg.sender == self.governance, "operator: caller is not governance"
    assert bond_per_share >= 10**15, "operator: bond per share below 0.001 ETH"
    assert withdrawal_delay <= 365 * 86_400, "operator: withdrawal delay above a year"
    self.bond_per_share = bond_per_share
    self.withdrawal_delay = withdrawal_delay
    log ParametersChanged(bond_per_share=bond_per_share, withdrawal_delay=withdrawal_delay)


@external
def set_curve(curve_bps: uint256):
    """
    @notice Governance: make each further key share of an operator cost `curve_bps` more
            bond than the previous one (0 = linear). Existing capacities follow at the next
            bond, withdrawal, penalty or `refresh`.
    """
    assert msg.sender == self.governance, "operator: caller is not governance"
    assert curve_bps <= BPS, "operator: curve above 100% per key share"
    self.curve_bps = curve_bps
    log CurveChanged(curve_bps=curve_bps)


@external
def set_governance(governance: address):
    assert msg.sender == self.governance, "operator: caller is not governance"
    assert governance != empty(address), "operator: zero address"
    self.governance = governance


# ---------------------------------------------------------------- internals


@internal
@view
def _value(amounts: uint256[3]) -> uint256:
    """@dev ETH value of (ETH, divETH shares, wdivETH) at the current rate, rounded down."""
    value: uint256 = amounts[ASSET_ETH]
    if amounts[ASSET_DIV] != 0:
        value += staticcall IDivEther(TOKEN).getPooledEthByShares(amounts[ASSET_DIV])
    if amounts[ASSET_WDIV] != 0:
        value += staticcall IWrappedDivEther(WRAPPER).convertToAssets(amounts[ASSET_WDIV])
    return value


@internal
@view
def _backing(operator_id: uint256) -> uint256:
    """@dev Value of the collateral that is not waiting to be withdrawn."""
    held: uint256[3] = self._collateral[operator_id]
    out: uint256[3] = self._pending[operator_id]
    for i: uint256 in range(3):
        held[i] -= min(held[i], out[i])
    return self._value(held)


@internal
@pure
def _required_for(shares: uint256, bond: uint256, curve: uint256) -> uint256:
    """@dev Bond that `shares` key shares need: Σ_{k=1..shares} bond × (1 + (k − 1) × curve / BPS)."""
    if shares == 0:
        return 0
    return bond * shares + bond * curve * shares * (shares - 1) // (2 * BPS)


@internal
@view
def _required(shares: uint256) -> uint256:
    return self._required_for(shares, self.bond_per_share, self.curve_bps)


@internal
@view
def _capacity(worth: uint256) -> uint256:
    """@dev The most key shares `worth` wei backs (binary search when the curve is on)."""
    bond: uint256 = self.bond_per_share
    curve: uint256 = self.curve_bps
    if curve == 0:
        return min(worth // bond, MASK24)
    low: uint256 = 0
    high: uint256 = MASK24
    for _: uint256 in range(24):
        if low == high:
            break
        middle: uint256 = (low + high + 1) // 2
        if self._required_for(middle, bond, curve) <= worth:
            low = middle
        else:
            high = middle - 1
    return low


@internal
def _refresh(operator_id: uint256) -> uint256:
    """@dev Re-cache the capacity from the backing value; returns the backing value."""
    backing: uint256 = self._backing(operator_id)
    capacity: uint256 = self._capacity(backing)
    word: uint256 = self._word[operator_id]
    self._word[operator_id] = (word & ~(MASK24 << CAP_SHIFT)) | (capacity << CAP_SHIFT)
    return backing


@internal
@view
def _caller_id() -> uint256:
    operator_id: uint256 = self.operator_id[msg.sender]
    assert operator_id != 0, "operator: caller is not a registered operator"
    return operator_id


@internal
@view
def _known(operator_id: uint256):
    assert operator_id != 0 and operator_id <= self.operator_count, "operator: unknown operator"


@internal
def _set_status(operator_id: uint256, status: uint256):
    word: uint256 = self._word[operator_id]
    self._word[operator_id] = (word & ~(255 << STATUS_SHIFT)) | (status << STATUS_SHIFT)
    log StatusChanged(operator_id=operator_id, status=status)


@internal
def _add_collateral(operator_id: uint256, asset: uint256, amount: uint256):
    assert amount != 0, "operator: zero bond"
    self._collateral[operator_id][asset] += amount
    self.total_deposited[asset] += amount
    self._refresh(operator_id)
    log Bonded(
        operator_id=operator_id,
        asset=asset,
        amount=amount,
        capacity=(self._word[operator_id] >> CAP_SHIFT) & MASK24,
    )


# ---------------------------------------------------------------- operators


@external
def register(node: address, binding_signature: Bytes[130], metadata_uri: String[256], fee_recipient: address) -> uint256:
    """
    @notice Register the caller as an operator. `binding_signature` is the node key's
            EIP-712 NodeKeyBinding(operator = caller) signature: proof that the operator
            controls the node key whose address is `node`.
    @return the new operator id (1, 2, …)
    """
    assert self.operator_id[msg.sender] == 0, "operator: already registered"
    assert node != empty(address), "operator: node is the zero address"
    assert self.node_operator[node] == 0, "operator: node key already registered"
    assert fee_recipient != empty(address), "operator: fee recipient is the zero address"
    assert len(binding_signature) == node_signature.SIGNATURE_LENGTH, "operator: signature must be 65 bytes"
    digest: bytes32 = node_signature._eip712_digest(
        DOMAIN_SEPARATOR, keccak256(abi_encode(BINDING_TYPEHASH, msg.sender))
    )
    assert node_signature._recover_at(digest, binding_signature, 0) == node, "operator: bad node key binding signature"
    operator_id: uint256 = self.operator_count + 1
    assert operator_id <= MAX_OPERATORS, "operator: registry full"
    self.operator_count = operator_id
    self.operator_id[msg.sender] = operator_id
    self.node_operator[node] = operator_id
    self.operator_address[operator_id] = msg.sender
    self.fee_recipient[operator_id] = fee_recipient
    self._word[operator_id] = (STATUS_ACTIVE << STATUS_SHIFT) | convert(node, uint256)
    log OperatorRegistered(
        operator_id=operator_id,
        operator=msg.sender,
        node=node,
        fee_recipient=fee_recipient,
        metadata_uri=metadata_uri,
    )
    return operator_id


@external
def update(metadata_uri: String[256], fee_recipient: address):
    """@notice Change the caller's metadata URI and fee recipient."""
    operator_id: uint256 = self._caller_id()
    assert fee_recipient != empty(address), "operator: fee recipient is the zero address"
    self.fee_recipient[operator_id] = fee_recipient
    log OperatorUpdated(operator_id=operator_id, fee_recipient=fee_recipient, metadata_uri=metadata_uri)


@external
@payable
@nonreentrant
def bond_eth():
    """@notice Bond `msg.value` ETH as the caller's collateral."""
    self._add_collateral(self._caller_id(), ASSET_ETH, msg.value)


@external
@nonreentrant
def bond_div_eth(shares: uint256):
    """@notice Bond `shares` divETH shares (approve their ETH value, rounded up, first)."""
    operator_id: uint256 = self._caller_id()
    extcall IDivEther(TOKEN).transferSharesFrom(msg.sender, self, shares)
    self._add_collateral(operator_id, ASSET_DIV, shares)


@external
@nonreentrant
def bond_wdiv_eth(amount: uint256):
    """@notice Bond `amount` wdivETH (approve it first)."""
    operator_id: uint256 = self._caller_id()
    assert extcall IWrappedDivEther(WRAPPER).transferFrom(msg.sender, self, amount), "operator: wdivETH transfer failed"
    self._add_collateral(operator_id, ASSET_WDIV, amount)


@external
def request_withdrawal(eth: uint256, div_eth_shares: uint256, wdiv_eth: uint256):
    """
    @notice Announce a withdrawal of collateral; it stops backing capacity now and can be
            taken after `withdrawal_delay`. Replaces any earlier request (restarting the delay).
            What remains must still back every key share the operator holds.
    """
    operator_id: uint256 = self._caller_id()
    held: uint256[3] = self._collateral[operator_id]
    assert eth <= held[ASSET_ETH] and div_eth_shares <= held[ASSET_DIV] and wdiv_eth <= held[ASSET_WDIV], "operator: withdrawal exceeds collateral"
    assert eth + div_eth_shares + wdiv_eth != 0, "operator: zero withdrawal"
    self._pending[operator_id] = [eth, div_eth_shares, wdiv_eth]
    ready_at: uint256 = block.timestamp + self.withdrawal_delay
    self._pending_ready_at[operator_id] = ready_at
    backing: uint256 = self._refresh(operator_id)
    used: uint256 = (self._word[operator_id] >> USED_SHIFT) & MASK24
    assert backing >= self._required(used), "operator: collateral backs active key shares"
    log WithdrawalRequested(
        operator_id=operator_id, eth=eth, div_eth_shares=div_eth_shares, wdiv_eth=wdiv_eth, ready_at=ready_at
    )


@external
def cancel_withdrawal():
    """@notice Drop the pending withdrawal; the collateral backs capacity again."""
    operator_id: uint256 = self._caller_id()
    assert self._pending_ready_at[operator_id] != 0, "operator: no pending withdrawal"
    self._pending[operator_id] = empty(uint256[3])
    self._pending_ready_at[operator_id] = 0
    self._refresh(operator_id)


@external
@nonreentrant
def withdraw():
    """
    @notice Take the pending withdrawal once its delay is over (capped by what penalties
            left). Reverts if the remaining collateral no longer backs the operator's key shares.
    """
    operator_id: uint256 = self._caller_id()
    ready_at: uint256 = self._pending_ready_at[operator_id]
    assert ready_at != 0, "operator: no pending withdrawal"
    assert block.timestamp >= ready_at, "operator: withdrawal delay not over"
    held: uint256[3] = self._collateral[operator_id]
    out: uint256[3] = self._pending[operator_id]
    for i: uint256 in range(3):
        out[i] = min(out[i], held[i])
        held[i] -= out[i]
        self.total_withdrawn[i] += out[i]
    used: uint256 = (self._word[operator_id] >> USED_SHIFT) & MASK24
    assert self._value(held) >= self._required(used), "operator: collateral backs active key shares"
    self._collateral[operator_id] = held
    self._pending[operator_id] = empty(uint256[3])
    self._pending_ready_at[operator_id] = 0
    self._refresh(operator_id)
    log Withdrawn(operator_id=operator_id, eth=out[ASSET_ETH], div_eth_shares=out[ASSET_DIV], wdiv_eth=out[ASSET_WDIV])
    if out[ASSET_DIV] != 0:
        extcall IDivEther(TOKEN).transferShares(msg.sender, out[ASSET_DIV])
    if out[ASSET_WDIV] != 0:
        assert extcall IWrappedDivEther(WRAPPER).transfer(msg.sender, out[ASSET_WDIV]), "operator: wdivETH transfer failed"
    if out[ASSET_ETH] != 0:
        raw_call(msg.sender, b"", value=out[ASSET_ETH])


@external
def pause():
    """@notice Stop being selected for new clusters (existing key shares keep running)."""
    operator_id: uint256 = self._caller_id()
    assert (self._word[operator_id] >> STATUS_SHIFT) & 255 == STATUS_ACTIVE, "operator: not active"
    self._set_status(operator_id, STATUS_PAUSED)


@external
def resume():
    """@notice Be selectable again; an ejected operator must first be fully collateralised."""
    operator_id: uint256 = self._caller_id()
    status: uint256 = (self._word[operator_id] >> STATUS_SHIFT) & 255
    assert status != STATUS_ACTIVE, "operator: already active"
    backing: uint256 = self._refresh(operator_id)
    used: uint256 = (self._word[operator_id] >> USED_SHIFT) & MASK24
    assert backing >= self._required(used), "operator: under-collateralised"
    self._set_status(operator_id, STATUS_ACTIVE)


@external
def refresh(operator_id: uint256):
    """@notice Anyone: re-cache an operator's capacity at the current divETH rate."""
    self._known(operator_id)
    self._refresh(operator_id)


@external
def eject(operator_id: uint256):
    """
    @notice Anyone: eject an operator whose backing collateral is below its key shares ×
            bond. It is no longer selected, and exits of its validators may be requested.
    """
    self._known(operator_id)
    word: uint256 = self._word[operator_id]
    assert (word >> STATUS_SHIFT) & 255 != STATUS_EJECTED, "operator: already ejected"
    backing: uint256 = self._refresh(operator_id)
    assert backing < self._required((word >> USED_SHIFT) & MASK24), "operator: sufficiently collateralised"
    self._set_status(operator_id, STATUS_EJECTED)


@external
@nonreentrant
def claim_rewards() -> uint256:
    """@notice Send the caller's accrued divETH reward shares to its fee recipient."""
    operator_id: uint256 = self._caller_id()
    shares: uint256 = self.reward_shares[operator_id]
    assert shares != 0, "operator: no rewards"
    self.reward_shares[operator_id] = 0
    recipient: address = self.fee_recipient[operator_id]
    extcall IDivEther(TOKEN).transferShares(recipient, shares)
    log RewardsClaimed(operator_id=operator_id, recipient=recipient, shares=shares)
    return shares


# ---------------------------------------------------------------- views


@external
@view
def operator(operator_id: uint256) -> (address, address, uint256, uint256, uint256, uint256):
    """@notice (operator, node, status, capacity, used key shares, active key shares)."""
    word: uint256 = self._word[operator_id]
    return (
        self.operator_address[operator_id],
        convert(word & MASK160, address),
        (word >> STATUS_SHIFT) & 255,
        (word >> CAP_SHIFT) & MASK24,
        (word >> USED_SHIFT) & MASK24,
        (word >> ACTIVE_SHIFT) & MASK24,
    )


@external
@view
def collateral(operator_id: uint256) -> uint256[3]:
    """@notice Bonded (ETH wei, divETH shares, wdivETH), including a pending withdrawal."""
    return self._collateral[operator_id]


@external
@view
def pending_withdrawal(operator_id: uint256) -> (uint256[3], uint256):
    """@notice (amounts per asset, time from which `withdraw` may take them); zeros if none."""
    return self._pending[operator_id], self._pending_ready_at[operator_id]


@external
@view
def required_bond(shares: uint256) -> uint256:
    """@notice Collateral value (wei) that `shares` key shares need under the current curve."""
    return self._required(shares)


@external
@view
def capacity_for(worth: uint256) -> uint256:
    """@notice Key shares that `worth` wei of collateral backs under the current curve."""
    return self._capacity(worth)


@external
@view
def free_capacity(operator_id: uint256) -> uint256:
    """@notice Cached capacity minus reserved key shares, never below zero."""
    word: uint256 = self._word[operator_id]
    capacity: uint256 = (word >> CAP_SHIFT) & MASK24
    used: uint256 = (word >> USED_SHIFT) & MASK24
    return capacity - min(capacity, used)


@external
@view
def collateral_value(operator_id: uint256) -> uint256:
    """@notice ETH value of everything bonded, including a pending withdrawal."""
    return self._value(self._collateral[operator_id])


@external
@view
def backing_value(operator_id: uint256) -> uint256:
    """@notice ETH value of the collateral that backs capacity (excludes a pending withdrawal)."""
    return self._backing(operator_id)


@external
@view
def nodes(operator_ids: DynArray[uint256, MAX_CLUSTER]) -> DynArray[address, MAX_CLUSTER]:
    """@notice Node addresses of these operators, in order."""
    out: DynArray[address, MAX_CLUSTER] = []
    for operator_id: uint256 in operator_ids:
        out.append(convert(self._word[operator_id] & MASK160, address))
    return out


@external
@view
def any_ejected(operator_ids: DynArray[uint256, MAX_CLUSTER]) -> bool:
    for operator_id: uint256 in operator_ids:
        if (self._word[operator_id] >> STATUS_SHIFT) & 255 == STATUS_EJECTED:
            return True
    return False


@external
@view
def is_oracle_member(operator_id: uint256, account: address) -> bool:
    """@notice Operators holding active key shares report through their node or own address."""
    word: uint256 = self._word[operator_id]
    if (word >> ACTIVE_SHIFT) & MASK24 == 0:
        return False
    return convert(word & MASK160, address) == account or self.operator_address[operator_id] == account


# ---------------------------------------------------------------- ValidatorRegistry hooks


@external
def reserve(seed: bytes32, n: uint256, exclude: DynArray[uint256, MAX_CLUSTER]) -> DynArray[uint256, MAX_CLUSTER]:
    """
    @notice ValidatorRegistry only: pick `n` distinct active operators, weighted by free
            capacity, deterministically from `seed`, and reserve one key share of each.
            Draw k uses r = keccak256(seed ‖ k) mod (remaining weight) and walks operators by
            id; a picked operator's weight drops to zero. Returns (id << 160 | node) in
            member order, or an empty list when fewer than n operators are eligible.
            `nektar.chain.selection.select` is the Python twin.
    """
    assert msg.sender == self.validator_registry, "operator: caller is not the ValidatorRegistry"
    count: uint256 = self.operator_count
    weights: DynArray[uint256, MAX_OPERATORS] = []
    total: uint256 = 0
    eligible: uint256 = 0
    for i: uint256 in range(MAX_OPERATORS):
        if i == count:
            break
        word: uint256 = self._word[i + 1]
        weight: uint256 = 0
        if (word >> STATUS_SHIFT) & 255 == STATUS_ACTIVE and (i + 1) not in exclude:
            capacity: uint256 = (word >> CAP_SHIFT) & MASK24
            used: uint256 = (word >> USED_SHIFT) & MASK24
            if capacity > used:
                weight = capacity - used
                eligible += 1
        weights.append(weight)
        total += weight
    members: DynArray[uint256, MAX_CLUSTER] = []
    if eligible < n:
        return members
    for k: uint256 in range(MAX_CLUSTER):
        if k == n:
            break
        r: uint256 = convert(keccak256(abi_encode(seed, k)), uint256) % total
        acc: uint256 = 0
        pick: uint256 = 0
        for i: uint256 in range(MAX_OPERATORS):
            acc += weights[i]
            if r < acc:
                pick = i
                break
        total -= weights[pick]
        weights[pick] = 0
        word: uint256 = self._word[pick + 1] + (1 << USED_SHIFT)
        self._word[pick + 1] = word
        members.append(((pick + 1) << 160) | (word & MASK160))
    return members


@external
def release(operator_ids: DynArray[uint256, MAX_CLUSTER], was_active: bool):
    """@notice ValidatorRegistry only: a validator failed or was withdrawn; free its key shares."""
    assert msg.sender == self.validator_registry, "operator: caller is not the ValidatorRegistry"
    for operator_id: uint256 in operator_ids:
        word: uint256 = self._word[operator_id] - (1 << USED_SHIFT)
        if was_active:
            word -= 1 << ACTIVE_SHIFT
            self.total_active_shares -= 1
            if (word >> ACTIVE_SHIFT) & MASK24 == 0:
                self.oracle_operator_count -= 1
        self._word[operator_id] = word


@external
def activate(operator_ids: DynArray[uint256, MAX_CLUSTER]):
    """@notice ValidatorRegistry only: the validator's 31 ETH went in; its shares are active."""
    assert msg.sender == self.validator_registry, "operator: caller is not the ValidatorRegistry"
    for operator_id: uint256 in operator_ids:
        word: uint256 = self._word[operator_id]
        if (word >> ACTIVE_SHIFT) & MASK24 == 0:
            self.oracle_operator_count += 1
        self._word[operator_id] = word + (1 << ACTIVE_SHIFT)
    self.total_active_shares += len(operator_ids)


# ---------------------------------------------------------------- OperatorOracle hooks


@internal
def _penalise(operator_id: uint256, amount: uint256) -> uint256:
    """
    @dev Take `amount` wei of value from the collateral: ETH first, then divETH shares
         (burnt), then wdivETH (unwrapped, burnt). Shares are rounded up (the protocol's
         favour) and capped by what is held. Returns the ETH to donate to the pool.
    """
    held: uint256[3] = self._collateral[operator_id]
    rest: uint256 = amount
    taken: uint256[3] = empty(uint256[3])
    taken[ASSET_ETH] = min(rest, held[ASSET_ETH])
    rest -= taken[ASSET_ETH]
    if rest != 0 and held[ASSET_DIV] != 0:
        shares: uint256 = staticcall IDivEther(TOKEN).getSharesByPooledEth(rest)
        if staticcall IDivEther(TOKEN).getPooledEthByShares(shares) < rest:
            shares += 1
        taken[ASSET_DIV] = min(shares, held[ASSET_DIV])
        rest -= min(rest, staticcall IDivEther(TOKEN).getPooledEthByShares(taken[ASSET_DIV]))
        extcall IDivEther(TOKEN).burn_shares(taken[ASSET_DIV])
    if rest != 0 and held[ASSET_WDIV] != 0:
        taken[ASSET_WDIV] = min(staticcall IWrappedDivEther(WRAPPER).previewWithdraw(rest), held[ASSET_WDIV])
        before: uint256 = staticcall IDivEther(TOKEN).sharesOf(self)
        extcall IWrappedDivEther(WRAPPER).unwrap(taken[ASSET_WDIV])
        extcall IDivEther(TOKEN).burn_shares(staticcall IDivEther(TOKEN).sharesOf(self) - before)
    for i: uint256 in range(3):
        held[i] -= taken[i]
        self.total_penalised[i] += taken[i]
    self._collateral[operator_id] = held
    self._refresh(operator_id)
    log Penalised(
        operator_id=operator_id,
        requested=amount,
        eth=taken[ASSET_ETH],
        div_eth_shares=taken[ASSET_DIV],
        wdiv_eth=taken[ASSET_WDIV],
    )
    return taken[ASSET_ETH]


@external
@nonreentrant
def settle(
    performance: DynArray[uint256, MAX_OPERATORS],
    reward_shares: uint256,
    duties_per_share: uint256,
    penalty_per_duty: uint256,
):
    """
    @notice OperatorOracle only, after it moved `reward_shares` divETH shares here. Each
            entry is (operator_id << 32 | missed duties), ids strictly increasing. An
            operator's weight is the duties it performed: active key shares × duties per
            share − missed (≥ 0). Operator i is credited ⌊reward × wᵢ / Σw⌋ shares; the
            remainder (< number of entries) is burnt, so paid + burnt = reward exactly.
            Missed duties cost `penalty_per_duty` wei each, taken from collateral.
    """
    assert msg.sender == self.oracle, "operator: caller is not the oracle"
    count: uint256 = self.operator_count
    weights: DynArray[uint256, MAX_OPERATORS] = []
    total: uint256 = 0
    previous: uint256 = 0
    for entry: uint256 in performance:
        operator_id: uint256 = entry >> 32
        assert operator_id > previous, "operator: performance entries not strictly increasing"
        assert operator_id <= count, "operator: unknown operator"
        previous = operator_id
        expected: uint256 = ((self._word[operator_id] >> ACTIVE_SHIFT) & MASK24) * duties_per_share
        missed: uint256 = entry & MASK32
        weight: uint256 = expected - min(expected, missed)
        weights.append(weight)
        total += weight
    paid: uint256 = 0
    donation: uint256 = 0
    for i: uint256 in range(MAX_OPERATORS):
        if i == len(performance):
            break
        operator_id: uint256 = performance[i] >> 32
        missed: uint256 = performance[i] & MASK32
        share: uint256 = 0
        if total != 0:
            share = reward_shares * weights[i] // total
        if share != 0:
            self.reward_shares[operator_id] += share
            paid += share
        if missed != 0 and penalty_per_duty != 0:
            donation += self._penalise(operator_id, missed * penalty_per_duty)
        log OperatorRewarded(operator_id=operator_id, shares=share, missed_duties=missed)
    burnt: uint256 = reward_shares - paid
    if burnt != 0:
        extcall IDivEther(TOKEN).burn_shares(burnt)
    if donation != 0:
        extcall IStakingPool(POOL).receive_donation(value=donation)
    log RewardsSettled(reward_shares=reward_shares, paid_shares=paid, burnt_shares=burnt)


@external
@payable
def __default__():
    """@notice Accepts nothing but what `bond_eth` takes; plain transfers are refused."""
    raise "operator: use bond_eth"

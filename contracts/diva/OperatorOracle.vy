# pragma version ~=0.4.3
"""
@title Diva OperatorOracle
@notice Hash consensus on one report per frame (a configurable number of epochs), then
        permissionless submission of the data matching the agreed hash.
        Members: the operators that hold active key shares (they vote through their node or
        operator address) and a governed committee. A report applies once ≥ 2/3 of the
        members voted for its hash: it updates the validators (confirmations, rejections,
        exits, withdrawals), reports to the StakingPool (whose sanity limits apply), and
        hands the fee shares the pool minted to this contract to the OperatorRegistry, which
        splits them among operators by performance and takes missed-duty penalties.
        The pool fields leave NativePod validators out; their beacon balances travel in
        `pod_validators` / `pod_balances` to their pods (through the ValidatorRegistry).
@dev A vote touches three slots: the voter's last voted ref slot, the frame's tally word
     (ref slot, variant count, consensus variant, applied flag, 8 × 16-bit supports) and the
     voted variant's hash.
"""


interface IStakingPool:
    def token() -> address: view
    def report(beacon_balance: uint256, beacon_validators: uint256, beacon_deposited: uint256, vault_withdrawn: uint256): nonpayable


interface IDivEther:
    def sharesOf(account: address) -> uint256: view
    def transferShares(receiver: address, shares: uint256) -> uint256: nonpayable


interface IOperatorRegistry:
    def is_oracle_member(operator_id: uint256, account: address) -> bool: view
    def oracle_operator_count() -> uint256: view
    def settle(performance: DynArray[uint256, 256], reward_shares: uint256, duties_per_share: uint256, penalty_per_duty: uint256): nonpayable


interface IValidatorRegistry:
    def activated_count() -> uint256: view
    def apply_report(confirmed: DynArray[uint256, 128], rejected: DynArray[uint256, 128], to_exit: DynArray[uint256, 128], withdrawn: DynArray[uint256, 128]): nonpayable
    def apply_pod_balances(validator_ids: DynArray[uint256, 128], balances: DynArray[uint256, 128]): nonpayable


struct Report:
    ref_slot: uint256
    beacon_balance: uint256
    beacon_deposited: uint256
    active_validators: uint256
    exited_validators: uint256
    vault_balance: uint256
    confirmed: DynArray[uint256, 128]
    rejected: DynArray[uint256, 128]
    to_exit: DynArray[uint256, 128]
    withdrawn: DynArray[uint256, 128]
    performance: DynArray[uint256, 256]
    pod_validators: DynArray[uint256, 128]
    pod_balances: DynArray[uint256, 128]


event Voted:
    ref_slot: indexed(uint256)
    member: indexed(address)
    operator_id: uint256
    report_hash: bytes32
    support: uint256


event ConsensusReached:
    ref_slot: indexed(uint256)
    report_hash: bytes32
    support: uint256
    members: uint256


event ReportApplied:
    ref_slot: indexed(uint256)
    report_hash: bytes32
    fee_shares: uint256


event MemberAdded:
    member: indexed(address)


event MemberRemoved:
    member: indexed(address)


event ParametersChanged:
    epochs_per_frame: uint256
    penalty_per_missed_duty: uint256
    operators_vote: bool


MAX_VARIANTS: constant(uint256) = 8
MAX_COMMITTEE: constant(uint256) = 64
MASK16: constant(uint256) = 2**16 - 1
MASK64: constant(uint256) = 2**64 - 1
# tally word: ref slot + 1 (0..63) | variants (64..71) | consensus variant + 1 (72..79)
#             | applied (80) | support of variant i (96 + 16 i)
VARIANTS_SHIFT: constant(uint256) = 64
CONSENSUS_SHIFT: constant(uint256) = 72
APPLIED_BIT: constant(uint256) = 2**80
SUPPORT_SHIFT: constant(uint256) = 96
MEMBER_BIT: constant(uint256) = 2**255

POOL: public(immutable(address))
TOKEN: public(immutable(address))
OPERATORS: public(immutable(address))
VALIDATORS: public(immutable(address))
GENESIS_TIME: public(immutable(uint256))
SECONDS_PER_SLOT: public(immutable(uint256))
SLOTS_PER_EPOCH: public(immutable(uint256))

governance: public(address)
epochs_per_frame: public(uint256)
penalty_per_missed_duty: public(uint256)
operators_vote: public(bool)
committee_size: public(uint256)
# committee member flag (bit 255) | last voted ref slot + 1; operators keyed by id
_committee: HashMap[address, uint256]
_operator_vote: HashMap[uint256, uint256]
_tally: uint256
_variant: bytes32[MAX_VARIANTS]
last_applied_ref_slot: public(uint256)
last_exited_validators: public(uint256)


@deploy
def __init__(
    pool: address,
    operators: address,
    validators: address,
    genesis_time: uint256,
    seconds_per_slot: uint256,
    slots_per_epoch: uint256,
    epochs_per_frame: uint256,
):
    """@notice The deployer is governance. Grant this contract the pool's ORACLE_ROLE and make
            it the pool's fee recipient (the fee shares are the operators' rewards)."""
    assert pool != empty(address) and operators != empty(address) and validators != empty(address), "oracle: zero address"
    assert seconds_per_slot != 0 and slots_per_epoch != 0, "oracle: zero slot or epoch length"
    assert epochs_per_frame != 0, "oracle: zero frame length"
    POOL = pool
    TOKEN = staticcall IStakingPool(pool).token()
    OPERATORS = operators
    VALIDATORS = validators
    GENESIS_TIME = genesis_time
    SECONDS_PER_SLOT = seconds_per_slot
    SLOTS_PER_EPOCH = slots_per_epoch
    self.governance = msg.sender
    self.epochs_per_frame = epochs_per_frame
    self.penalty_per_missed_duty = 10**14
    self.operators_vote = True


# ---------------------------------------------------------------- governance


@external
def add_member(member: address):
    assert msg.sender == self.governance, "oracle: caller is not governance"
    assert member != empty(address), "oracle: zero address"
    entry: uint256 = self._committee[member]
    assert entry & MEMBER_BIT == 0, "oracle: already a member"
    assert self.committee_size < MAX_COMMITTEE, "oracle: committee full"
    self._committee[member] = entry | MEMBER_BIT
    self.committee_size += 1
    log MemberAdded(member=member)


@external
def remove_member(member: address):
    assert msg.sender == self.governance, "oracle: caller is not governance"
    entry: uint256 = self._committee[member]
    assert entry & MEMBER_BIT != 0, "oracle: not a member"
    self._committee[member] = entry & ~MEMBER_BIT
    self.committee_size -= 1
    log MemberRemoved(member=member)


@external
def set_parameters(epochs_per_frame: uint256, penalty_per_missed_duty: uint256, operators_vote: bool):
    """@notice Governance: frame length, penalty per missed duty (wei), operator membership."""
    assert msg.sender == self.governance, "oracle: caller is not governance"
    assert epochs_per_frame != 0 and epochs_per_frame <= 10_000, "oracle: frame length out of range"
    assert penalty_per_missed_duty <= 10**18, "oracle: penalty above 1 ETH per duty"
    self.epochs_per_frame = epochs_per_frame
    self.penalty_per_missed_duty = penalty_per_missed_duty
    self.operators_vote = operators_vote
    log ParametersChanged(
        epochs_per_frame=epochs_per_frame, penalty_per_missed_duty=penalty_per_missed_duty, operators_vote=operators_vote
    )


# ---------------------------------------------------------------- frames


@internal
@view
def _current_ref_slot() -> uint256:
    """@dev Frame k covers slots [kF, (k+1)F); its report describes the chain at slot kF − 1."""
    assert block.timestamp >= GENESIS_TIME, "oracle: before genesis"
    slot: uint256 = (block.timestamp - GENESIS_TIME) // SECONDS_PER_SLOT
    frame_slots: uint256 = self.epochs_per_frame * SLOTS_PER_EPOCH
    frame: uint256 = slot // frame_slots
    assert frame != 0, "oracle: first frame has no report"
    return frame * frame_slots - 1


@internal
@view
def _members() -> uint256:
    count: uint256 = self.committee_size
    if self.operators_vote:
        count += staticcall IOperatorRegistry(OPERATORS).oracle_operator_count()
    return count


@external
@view
def current_ref_slot() -> uint256:
    return self._current_ref_slot()


@external
@view
def members() -> uint256:
    """@notice Oracle members now: committee + operators holding active key shares."""
    return self._members()


@external
@view
def is_member(account: address) -> bool:
    return self._committee[account] & MEMBER_BIT != 0


@external
@view
def consensus() -> (uint256, bytes32, bool):
    """@notice (ref slot, agreed hash or zero, applied) of the latest frame that has votes."""
    tally: uint256 = self._tally
    ref_plus_one: uint256 = tally & MASK64
    if ref_plus_one == 0:
        return (0, empty(bytes32), False)
    chosen: uint256 = (tally >> CONSENSUS_SHIFT) & 255
    agreed: bytes32 = empty(bytes32)
    if chosen != 0:
        agreed = self._variant[chosen - 1]
    return (ref_plus_one - 1, agreed, tally & APPLIED_BIT != 0)


# ---------------------------------------------------------------- voting


@external
def vote(ref_slot: uint256, report_hash: bytes32, operator_id: uint256):
    """
    @notice A member votes for the hash of its report for the current frame. Committee
            members pass operator_id 0; operators pass their id and vote from their node or
            operator address. One vote per member per frame.
    """
    assert report_hash != empty(bytes32), "oracle: empty report hash"
    current: uint256 = self._current_ref_slot()
    assert ref_slot <= current, "oracle: ref slot is in the future"
    assert ref_slot == current, "oracle: stale ref slot"
    if operator_id == 0:
        entry: uint256 = self._committee[msg.sender]
        assert entry & MEMBER_BIT != 0, "oracle: caller is not a member"
        assert entry & MASK64 != ref_slot + 1, "oracle: already voted in this frame"
        self._committee[msg.sender] = MEMBER_BIT | (ref_slot + 1)
    else:
        assert self.operators_vote, "oracle: operators do not vote"
        assert staticcall IOperatorRegistry(OPERATORS).is_oracle_member(operator_id, msg.sender), "oracle: caller is not a member"
        assert self._operator_vote[operator_id] != ref_slot + 1, "oracle: already voted in this frame"
        self._operator_vote[operator_id] = ref_slot + 1

    tally: uint256 = self._tally
    if tally & MASK64 != ref_slot + 1:
        tally = ref_slot + 1
    assert tally & APPLIED_BIT == 0, "oracle: report already applied"
    variants: uint256 = (tally >> VARIANTS_SHIFT) & 255
    index: uint256 = variants
    for i: uint256 in range(MAX_VARIANTS):
        if i == variants:
            break
        if self._variant[i] == report_hash:
            index = i
            break
    if index == variants:
        assert variants < MAX_VARIANTS, "oracle: too many report variants"
        self._variant[index] = report_hash
        tally += 1 << VARIANTS_SHIFT
    support_shift: uint256 = SUPPORT_SHIFT + 16 * index
    support: uint256 = ((tally >> support_shift) & MASK16) + 1
    tally = (tally & ~(MASK16 << support_shift)) | (support << support_shift)
    members: uint256 = self._members()
    if (tally >> CONSENSUS_SHIFT) & 255 == 0 and 3 * support >= 2 * members:
        tally |= (index + 1) << CONSENSUS_SHIFT
        log ConsensusReached(ref_slot=ref_slot, report_hash=report_hash, support=support, members=members)
    self._tally = tally
    log Voted(ref_slot=ref_slot, member=msg.sender, operator_id=operator_id, report_hash=report_hash, support=support)


# ---------------------------------------------------------------- applying


@external
@nonreentrant
def submit(report: Report):
    """
    @notice Anyone: apply the report whose keccak256(abi_encode(report)) the members agreed
            on, during its frame, once.
    """
    tally: uint256 = self._tally
    assert tally & MASK64 == report.ref_slot + 1, "oracle: no votes for this ref slot"
    assert report.ref_slot == self._current_ref_slot(), "oracle: stale ref slot"
    chosen: uint256 = (tally >> CONSENSUS_SHIFT) & 255
    assert chosen != 0, "oracle: no consensus for this frame"
    assert tally & APPLIED_BIT == 0, "oracle: report already applied"
    report_hash: bytes32 = keccak256(abi_encode(report))
    assert report_hash == self._variant[chosen - 1], "oracle: report does not match the agreed hash"
    assert report.exited_validators >= self.last_exited_validators, "oracle: exited count went down"
    assert report.active_validators + report.exited_validators <= staticcall IValidatorRegistry(VALIDATORS).activated_count(), "oracle: more validators than activated"
    self._tally = tally | APPLIED_BIT
    self.last_applied_ref_slot = report.ref_slot
    self.last_exited_validators = report.exited_validators

    before: uint256 = staticcall IDivEther(TOKEN).sharesOf(self)
    extcall IStakingPool(POOL).report(report.beacon_balance, report.active_validators, report.beacon_deposited, report.vault_balance)
    fee_shares: uint256 = staticcall IDivEther(TOKEN).sharesOf(self) - before
    if fee_shares != 0:
        extcall IDivEther(TOKEN).transferShares(OPERATORS, fee_shares)
    extcall IOperatorRegistry(OPERATORS).settle(report.performance, fee_shares, self.epochs_per_frame, self.penalty_per_missed_duty)
    extcall IValidatorRegistry(VALIDATORS).apply_report(report.confirmed, report.rejected, report.to_exit, report.withdrawn)
    if len(report.pod_validators) != 0 or len(report.pod_balances) != 0:
        extcall IValidatorRegistry(VALIDATORS).apply_pod_balances(report.pod_validators, report.pod_balances)
    log ReportApplied(ref_slot=report.ref_slot, report_hash=report_hash, fee_shares=fee_shares)

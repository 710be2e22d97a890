# pragma version ~=0.4.3
"""
@title Diva ValidatorRegistry
@notice The validator lifecycle of DESIGN.md §3:
        PROPOSED → REGISTERED (1 ETH pre-deposit) → ACTIVATED (31 ETH) → EXITING → WITHDRAWN,
        and PROPOSED/REGISTERED → FAILED (DKG timeout, or credentials front-run).
        `propose` (anyone, once the buffer covers 32 ETH) draws a cluster of n operators from
        the OperatorRegistry with a seed from prevrandao and the previous validator id.
        `register` carries the DKG result signed by every member's node key (EIP-712
        ValidatorRegistration) and deposits 1 ETH with credentials 0x01‖0…‖WithdrawalVault.
        The remaining 31 ETH go in (`activate`) only after the oracle confirmed that the
        beacon chain shows the validator with exactly those credentials.
        Native restaking: a NativePod (`is_pod` of the pod factory) pays 32 ETH to
        `propose_for_pod`; that validator's credentials are 0x01‖0…‖pod, its 1 + 31 ETH come
        from the pod's payment (never the pool's buffer), a failed DKG re-proposes for the same
        pod (or refunds the 32 ETH), a front-run rejection refunds the 31 ETH, the pod may ask
        an exit, and the oracle's pod balances are forwarded to the pod.
@dev One storage word per validator: member operator ids (12 bits × 16), status, n and the
     DKG deadline. Big data (pubkey, shares, signatures) is emitted in events and only its
     hash is stored.
"""

from . import node_signature


interface IStakingPool:
    def buffered_ether() -> uint256: view
    def withdrawal_queue() -> address: view
    def withdrawal_vault() -> address: view
    def withdraw_for_deposit(amount: uint256): nonpayable


interface IWithdrawalQueue:
    def unfinalized_ether() -> uint256: view


interface IOperatorRegistry:
    def reserve(seed: bytes32, n: uint256, exclude: DynArray[uint256, 16]) -> DynArray[uint256, 16]: nonpayable
    def release(operator_ids: DynArray[uint256, 16], was_active: bool): nonpayable
    def activate(operator_ids: DynArray[uint256, 16]): nonpayable
    def nodes(operator_ids: DynArray[uint256, 16]) -> DynArray[address, 16]: view
    def any_ejected(operator_ids: DynArray[uint256, 16]) -> bool: view
    def operator_address(operator_id: uint256) -> address: view


interface INativePodFactory:
    def is_pod(account: address) -> bool: view


interface INativePod:
    def on_balance(validator_id: uint256, balance: uint256): nonpayable
    def on_report(): nonpayable


interface IDepositContract:
    def deposit(pubkey: Bytes[96], withdrawal_credentials: Bytes[64], signature: Bytes[192], deposit_data_root: bytes32): payable


event ValidatorProposed:
    validator_id: indexed(uint256)
    n: uint256
    t: uint256
    operator_ids: DynArray[uint256, 16]
    nodes: DynArray[address, 16]
    seed: bytes32
    deadline: uint256


event DkgAcknowledged:
    validator_id: indexed(uint256)
    member_index: uint256


event ValidatorRegistered:
    validator_id: indexed(uint256)
    pubkey: Bytes[48]
    public_shares: Bytes[1536]
    deposit_signature: Bytes[96]
    deposit_data_root: bytes32


event CredentialsConfirmed:
    validator_id: indexed(uint256)


event ValidatorActivated:
    validator_id: indexed(uint256)


event ValidatorFailed:
    validator_id: indexed(uint256)
    front_run: bool
    non_signers: DynArray[uint256, 16]


event ExitRequested:
    validator_id: indexed(uint256)
    by_ejection: bool


event ValidatorWithdrawn:
    validator_id: indexed(uint256)


event PodValidatorProposed:
    validator_id: indexed(uint256)
    pod: indexed(address)


event PodRefunded:
    validator_id: indexed(uint256)
    pod: indexed(address)
    amount: uint256


event ParametersChanged:
    cluster_size: uint256
    dkg_timeout: uint256


PROPOSED: constant(uint256) = 1
REGISTERED: constant(uint256) = 2
ACTIVATED: constant(uint256) = 3
EXITING: constant(uint256) = 4
WITHDRAWN: constant(uint256) = 5
FAILED: constant(uint256) = 6
CONFIRMED_BIT: constant(uint256) = 16
POD_BIT: constant(uint256) = 32
STATE_BITS: constant(uint256) = 15 | CONFIRMED_BIT
MAX_POD_VALIDATORS: constant(uint256) = 128

MAX_N: constant(uint256) = 16
MASK64: constant(uint256) = 2**64 - 1
SIZE_SHIFT: constant(uint256) = 64
TIMEOUT_SHIFT: constant(uint256) = 72
COMMITTED_SHIFT: constant(uint256) = 128
ID_BITS: constant(uint256) = 12
MASK12: constant(uint256) = 2**12 - 1
MASK160: constant(uint256) = 2**160 - 1
STATUS_SHIFT: constant(uint256) = 192
N_SHIFT: constant(uint256) = 200
DEADLINE_SHIFT: constant(uint256) = 208
SHARE_LENGTH: constant(uint256) = 48
SIGNATURE_LENGTH: constant(uint256) = 65
VALIDATOR_ETHER: constant(uint256) = 32 * 10**18
PRE_DEPOSIT: constant(uint256) = 10**18
REST_DEPOSIT: constant(uint256) = 31 * 10**18
# 1 ETH and 31 ETH in gwei, little-endian uint64 (SSZ)
PRE_DEPOSIT_LE: constant(bytes8) = 0x00ca9a3b00000000
REST_DEPOSIT_LE: constant(bytes8) = 0x0076be3707000000

REGISTRATION_TYPEHASH: constant(bytes32) = keccak256(
    "ValidatorRegistration(uint256 validatorId,bytes pubkey,bytes publicShares,bytes depositSignature,bytes32 depositDataRoot)"
)

POOL: public(immutable(address))
QUEUE: public(immutable(address))
OPERATORS: public(immutable(address))
DEPOSIT_CONTRACT: public(immutable(address))
WITHDRAWAL_CREDENTIALS: public(immutable(bytes32))
DOMAIN_SEPARATOR: public(immutable(bytes32))

governance: public(address)
oracle: public(address)

# everything `propose` reads and writes in one slot:
# last validator id (0..63) | cluster size n (64..71) | DKG timeout (72..103)
# | ETH committed to PROPOSED/REGISTERED validators (128..255)
_state: uint256
_validator: HashMap[uint256, uint256]
_acks: HashMap[uint256, uint256]
deposit_hash: public(HashMap[uint256, bytes32])
pubkey_validator: public(HashMap[bytes32, uint256])
activated_count: public(uint256)
pod_factory: public(address)
pod_activated_count: public(uint256)
validator_pod: public(HashMap[uint256, address])
pod_validator_count: public(HashMap[address, uint256])
pod_validator_at: public(HashMap[address, HashMap[uint256, uint256]])


@deploy
def __init__(pool: address, operators: address, deposit_contract: address):
    """@notice The deployer is governance; then call `set_oracle` and grant DEPOSITOR_ROLE."""
    assert pool != empty(address) and operators != empty(address) and deposit_contract != empty(address), "validator: zero address"
    POOL = pool
    QUEUE = staticcall IStakingPool(pool).withdrawal_queue()
    OPERATORS = operators
    DEPOSIT_CONTRACT = deposit_contract
    vault: address = staticcall IStakingPool(pool).withdrawal_vault()
    WITHDRAWAL_CREDENTIALS = convert((1 << 248) | convert(vault, uint256), bytes32)
    DOMAIN_SEPARATOR = node_signature._domain_separator(keccak256("Nektar ValidatorRegistry"), self)
    self.governance = msg.sender
    self._state = (3_600 << TIMEOUT_SHIFT) | (4 << SIZE_SHIFT)


# ---------------------------------------------------------------- governance


@external
def set_oracle(oracle: address):
    """@notice Governance names the OperatorOracle, once."""
    assert msg.sender == self.governance, "validator: caller is not governance"
    assert self.oracle == empty(address), "validator: oracle already set"
    assert oracle != empty(address), "validator: zero address"
    self.oracle = oracle


@external
def set_pod_factory(factory: address):
    """@notice Governance names the NativePodFactory whose pods may `propose_for_pod`, once."""
    assert msg.sender == self.governance, "validator: caller is not governance"
    assert self.pod_factory == empty(address), "validator: pod factory already set"
    assert factory != empty(address), "validator: zero address"
    self.pod_factory = factory


@external
def set_parameters(cluster_size: uint256, dkg_timeout: uint256):
    """@notice Governance: n ∈ {4, 7, 10, 13, 16} (t = ⌈2n/3⌉) and the DKG timeout (s)."""
    assert msg.sender == self.governance, "validator: caller is not governance"
    assert cluster_size in [4, 7, 10, 13, 16], "validator: cluster size not in {4,7,10,13,16}"
    assert dkg_timeout >= 60 and dkg_timeout <= 7 * 86_400, "validator: DKG timeout out of range"
    state: uint256 = self._state
    self._state = (state & ~(2**40 - 1 << SIZE_SHIFT)) | (dkg_timeout << TIMEOUT_SHIFT) | (cluster_size << SIZE_SHIFT)
    log ParametersChanged(cluster_size=cluster_size, dkg_timeout=dkg_timeout)


# ---------------------------------------------------------------- internals


@internal
@pure
def _threshold(n: uint256) -> uint256:
    return (2 * n + 2) // 3


@internal
@pure
def _members(word: uint256) -> DynArray[uint256, MAX_N]:
    out: DynArray[uint256, MAX_N] = []
    n: uint256 = (word >> N_SHIFT) & 255
    for i: uint256 in range(MAX_N):
        if i == n:
            break
        out.append((word >> (i * ID_BITS)) & MASK12)
    return out


@internal
@view
def _word(validator_id: uint256) -> uint256:
    assert validator_id != 0 and validator_id <= self._state & MASK64, "validator: unknown validator"
    return self._validator[validator_id]


@internal
@pure
def _with_status(word: uint256, status: uint256) -> uint256:
    """@dev New lifecycle state; the confirmation bit stays as a record."""
    return (word & ~(15 << STATUS_SHIFT)) | (status << STATUS_SHIFT)


@internal
@view
def _deposit_root(pubkey: Bytes[48], amount: bytes8, signature: Bytes[96], credentials: bytes32) -> bytes32:
    """
    @dev hash_tree_root(DepositData) with `credentials`, as the DepositContract computes it;
         `amount` is the gwei amount as SSZ's little-endian uint64.
    """
    signature_root: bytes32 = sha256(
        concat(sha256(slice(signature, 0, 64)), sha256(concat(slice(signature, 64, 32), empty(bytes32))))
    )
    return sha256(
        concat(
            sha256(concat(sha256(concat(pubkey, empty(bytes16))), credentials)),
            sha256(concat(amount, empty(bytes24), signature_root)),
        )
    )


@internal
@view
def _credentials(validator_id: uint256, word: uint256) -> bytes32:
    """@dev 0x01‖0…‖pod for a pod's validator, the WithdrawalVault's otherwise."""
    if (word >> STATUS_SHIFT) & POD_BIT == 0:
        return WITHDRAWAL_CREDENTIALS
    return convert((1 << 248) | convert(self.validator_pod[validator_id], uint256), bytes32)


@internal
def _deposit(pubkey: Bytes[48], signature: Bytes[96], amount: uint256, root: bytes32, credentials: bytes32, from_pool: bool):
    """@dev Pool validators' ETH comes from the buffer; pods' ETH is already held here."""
    if from_pool:
        extcall IStakingPool(POOL).withdraw_for_deposit(amount)
    extcall IDepositContract(DEPOSIT_CONTRACT).deposit(
        pubkey, concat(credentials, b""), signature, root, value=amount
    )


@internal
def _refund(validator_id: uint256, amount: uint256):
    """@dev Give a pod back the ETH a validator will not use (the pod accepts it as a refund)."""
    pod: address = self.validator_pod[validator_id]
    log PodRefunded(validator_id=validator_id, pod=pod, amount=amount)
    raw_call(pod, b"", value=amount)


@internal
def _propose(exclude: DynArray[uint256, MAX_N], pod: address) -> uint256:
    """
    @dev Select and record a new PROPOSED validator; 0 when no cluster can be formed. A pool
         validator commits 32 ETH of the buffer; a pod's validator is paid by the pod.
    """
    state: uint256 = self._state
    previous: uint256 = state & MASK64
    if pod == empty(address):
        committed: uint256 = state >> COMMITTED_SHIFT
        free: uint256 = staticcall IStakingPool(POOL).buffered_ether()
        reserved: uint256 = staticcall IWithdrawalQueue(QUEUE).unfinalized_ether() + committed
        if free < reserved + VALIDATOR_ETHER:
            return 0
    seed: bytes32 = keccak256(abi_encode(block.prevrandao, previous))
    n: uint256 = (state >> SIZE_SHIFT) & 255
    picked: DynArray[uint256, MAX_N] = extcall IOperatorRegistry(OPERATORS).reserve(seed, n, exclude)
    if len(picked) == 0:
        return 0
    validator_id: uint256 = previous + 1
    deadline: uint256 = block.timestamp + ((state >> TIMEOUT_SHIFT) & (2**32 - 1))
    word: uint256 = (deadline << DEADLINE_SHIFT) | (n << N_SHIFT) | (PROPOSED << STATUS_SHIFT)
    ids: DynArray[uint256, MAX_N] = []
    nodes: DynArray[address, MAX_N] = []
    for i: uint256 in range(MAX_N):
        if i == len(picked):
            break
        operator_id: uint256 = picked[i] >> 160
        word |= operator_id << (i * ID_BITS)
        ids.append(operator_id)
        nodes.append(convert(picked[i] & MASK160, address))
    if pod == empty(address):
        self._validator[validator_id] = word
        self._state = (state & ~MASK64) + (VALIDATOR_ETHER << COMMITTED_SHIFT) + validator_id
    else:
        count: uint256 = self.pod_validator_count[pod]
        assert count < MAX_POD_VALIDATORS, "validator: pod has too many validators"
        self._validator[validator_id] = word | (POD_BIT << STATUS_SHIFT)
        self._state = (state & ~MASK64) + validator_id
        self.validator_pod[validator_id] = pod
        self.pod_validator_at[pod][count] = validator_id
        self.pod_validator_count[pod] = count + 1
    log ValidatorProposed(
        validator_id=validator_id, n=n, t=self._threshold(n), operator_ids=ids, nodes=nodes, seed=seed, deadline=deadline
    )
    if pod != empty(address):
        log PodValidatorProposed(validator_id=validator_id, pod=pod)
    return validator_id


@internal
def _uncommit(amount: uint256):
    self._state -= amount << COMMITTED_SHIFT


# ---------------------------------------------------------------- lifecycle


@external
@nonreentrant
def propose() -> uint256:
    """
    @notice Anyone, once the buffer (minus withdrawals' reserve and ETH already committed to
            proposed validators) covers 32 ETH: draw a cluster and emit ValidatorProposed.
    @return the new validator id
    """
    validator_id: uint256 = self._propose([], empty(address))
    assert validator_id != 0, "validator: buffer below 32 ETH or not enough operators with free capacity"
    return validator_id


@external
@payable
@nonreentrant
def propose_for_pod() -> uint256:
    """
    @notice A NativePod pays exactly 32 ETH for one validator whose withdrawal credentials
            are 0x01‖0…‖pod: draw a cluster as `propose` does (the pool's buffer is not
            involved); emits ValidatorProposed and PodValidatorProposed.
    @return the new validator id
    """
    factory: address = self.pod_factory
    assert factory != empty(address), "validator: no pod factory"
    assert staticcall INativePodFactory(factory).is_pod(msg.sender), "validator: caller is not a pod"
    assert msg.value == VALIDATOR_ETHER, "validator: a pod validator takes exactly 32 ETH"
    validator_id: uint256 = self._propose([], msg.sender)
    assert validator_id != 0, "validator: not enough operators with free capacity"
    return validator_id


@external
def acknowledge(validator_id: uint256, member_index: uint256):
    """
    @notice A member (its node or operator address) states that it is taking part in the
            DKG. When the DKG times out, members that did not acknowledge are left out of
            the re-proposal.
    """
    word: uint256 = self._word(validator_id)
    assert (word >> STATUS_SHIFT) & 15 == PROPOSED, "validator: not proposed"
    assert block.timestamp <= word >> DEADLINE_SHIFT, "validator: DKG deadline passed"
    assert member_index < (word >> N_SHIFT) & 255, "validator: member index out of range"
    operator_id: uint256 = (word >> (member_index * ID_BITS)) & MASK12
    node: address = (staticcall IOperatorRegistry(OPERATORS).nodes([operator_id]))[0]
    assert msg.sender == node or msg.sender == staticcall IOperatorRegistry(OPERATORS).operator_address(operator_id), "validator: caller is not this member"
    self._acks[validator_id] |= 1 << member_index
    log DkgAcknowledged(validator_id=validator_id, member_index=member_index)


@external
@nonreentrant
def register(
    validator_id: uint256,
    pubkey: Bytes[96],
    public_shares: Bytes[1536],
    deposit_signature: Bytes[192],
    deposit_data_root: bytes32,
    signatures: Bytes[2080],
):
    """
    @notice Register the DKG result: group `pubkey`, the n `public_shares` (48 bytes each, in
            member order, concatenated), the deposit signature over the 1 ETH DepositMessage
            with the vault's credentials and its `deposit_data_root`, and the n members'
            65-byte EIP-712 ValidatorRegistration signatures (concatenated, member order).
            Deposits 1 ETH through the DepositContract.
    """
    word: uint256 = self._word(validator_id)
    assert (word >> STATUS_SHIFT) & 15 == PROPOSED, "validator: not proposed"
    assert block.timestamp <= word >> DEADLINE_SHIFT, "validator: DKG deadline passed"
    n: uint256 = (word >> N_SHIFT) & 255
    assert len(pubkey) == 48, "validator: pubkey must be 48 bytes"
    assert len(public_shares) == n * SHARE_LENGTH, "validator: public shares must be n x 48 bytes"
    assert len(deposit_signature) == 96, "validator: deposit signature must be 96 bytes"
    assert len(signatures) == n * SIGNATURE_LENGTH, "validator: member signatures must be n x 65 bytes"
    key: Bytes[48] = slice(pubkey, 0, 48)
    signature: Bytes[96] = slice(deposit_signature, 0, 96)
    key_hash: bytes32 = keccak256(key)
    assert self.pubkey_validator[key_hash] == 0, "validator: pubkey already registered"
    credentials: bytes32 = self._credentials(validator_id, word)
    assert self._deposit_root(key, PRE_DEPOSIT_LE, signature, credentials) == deposit_data_root, "validator: deposit data root mismatch"

    digest: bytes32 = node_signature._eip712_digest(
        DOMAIN_SEPARATOR,
        keccak256(
            abi_encode(
                REGISTRATION_TYPEHASH,
                validator_id,
                key_hash,
                keccak256(public_shares),
                keccak256(signature),
                deposit_data_root,
            )
        ),
    )
    members: DynArray[uint256, MAX_N] = self._members(word)
    nodes: DynArray[address, MAX_N] = staticcall IOperatorRegistry(OPERATORS).nodes(members)
    for i: uint256 in range(MAX_N):
        if i == n:
            break
        assert node_signature._recover_at(digest, signatures, i * SIGNATURE_LENGTH) == nodes[i], "validator: bad member signature"

    self._validator[validator_id] = self._with_status(word, REGISTERED)
    self.pubkey_validator[key_hash] = validator_id
    self.deposit_hash[validator_id] = keccak256(concat(key, signature))
    from_pool: bool = (word >> STATUS_SHIFT) & POD_BIT == 0
    if from_pool:
        self._uncommit(PRE_DEPOSIT)
    log ValidatorRegistered(
        validator_id=validator_id,
        pubkey=key,
        public_shares=public_shares,
        deposit_signature=signature,
        deposit_data_root=deposit_data_root,
    )
    self._deposit(key, signature, PRE_DEPOSIT, deposit_data_root, credentials, from_pool)


@external
@nonreentrant
def activate(validator_id: uint256, pubkey: Bytes[48], deposit_signature: Bytes[96]):
    """
    @notice Anyone, once the oracle confirmed the credentials: deposit the remaining 31 ETH
            (same pubkey and signature as registered; the beacon chain ignores the signature
            of a top-up, the DepositContract checks the root computed here).
    """
    word: uint256 = self._word(validator_id)
    status: uint256 = (word >> STATUS_SHIFT) & 255
    assert status & 15 == REGISTERED, "validator: not registered"
    assert status & CONFIRMED_BIT != 0, "validator: credentials not confirmed by the oracle"
    assert keccak256(concat(pubkey, deposit_signature)) == self.deposit_hash[validator_id], "validator: pubkey or signature differ from the registration"
    self._validator[validator_id] = self._with_status(word, ACTIVATED)
    from_pool: bool = status & POD_BIT == 0
    if from_pool:
        self.activated_count += 1
        self._uncommit(REST_DEPOSIT)
    else:
        self.pod_activated_count += 1
    extcall IOperatorRegistry(OPERATORS).activate(self._members(word))
    log ValidatorActivated(validator_id=validator_id)
    credentials: bytes32 = self._credentials(validator_id, word)
    self._deposit(
        pubkey,
        deposit_signature,
        REST_DEPOSIT,
        self._deposit_root(pubkey, REST_DEPOSIT_LE, deposit_signature, credentials),
        credentials,
        from_pool,
    )


@external
@nonreentrant
def fail(validator_id: uint256) -> uint256:
    """
    @notice Anyone, after the DKG deadline of a PROPOSED validator: mark it FAILED, free its
            members' capacity and propose again without the members that did not acknowledge.
            A pod's validator is re-proposed for the same pod with the same 32 ETH, which go
            back to the pod when no cluster can be formed.
    @return the id of the re-proposed validator, 0 if none could be formed
    """
    word: uint256 = self._word(validator_id)
    assert (word >> STATUS_SHIFT) & 15 == PROPOSED, "validator: not proposed"
    assert block.timestamp > word >> DEADLINE_SHIFT, "validator: DKG deadline not passed"
    members: DynArray[uint256, MAX_N] = self._members(word)
    acks: uint256 = self._acks[validator_id]
    non_signers: DynArray[uint256, MAX_N] = []
    for i: uint256 in range(MAX_N):
        if i == len(members):
            break
        if acks & (1 << i) == 0:
            non_signers.append(members[i])
    self._validator[validator_id] = self._with_status(word, FAILED)
    extcall IOperatorRegistry(OPERATORS).release(members, False)
    log ValidatorFailed(validator_id=validator_id, front_run=False, non_signers=non_signers)
    if (word >> STATUS_SHIFT) & POD_BIT == 0:
        self._uncommit(VALIDATOR_ETHER)
        return self._propose(non_signers, empty(address))
    again: uint256 = self._propose(non_signers, self.validator_pod[validator_id])
    if again == 0:
        self._refund(validator_id, VALIDATOR_ETHER)
    return again


@external
def request_exit_for_ejection(validator_id: uint256):
    """@notice Anyone: an ACTIVATED validator with an ejected member must exit."""
    word: uint256 = self._word(validator_id)
    assert (word >> STATUS_SHIFT) & 15 == ACTIVATED, "validator: not activated"
    assert staticcall IOperatorRegistry(OPERATORS).any_ejected(self._members(word)), "validator: no member is ejected"
    self._validator[validator_id] = self._with_status(word, EXITING)
    log ExitRequested(validator_id=validator_id, by_ejection=True)


@external
def request_pod_exit(validator_id: uint256):
    """@notice The pod of an ACTIVATED validator asks its exit (its cluster signs it)."""
    word: uint256 = self._word(validator_id)
    assert self.validator_pod[validator_id] == msg.sender, "validator: caller is not this validator's pod"
    assert (word >> STATUS_SHIFT) & 15 == ACTIVATED, "validator: not activated"
    self._validator[validator_id] = self._with_status(word, EXITING)
    log ExitRequested(validator_id=validator_id, by_ejection=False)


@external
def apply_report(
    confirmed: DynArray[uint256, 128],
    rejected: DynArray[uint256, 128],
    to_exit: DynArray[uint256, 128],
    withdrawn: DynArray[uint256, 128],
):
    """
    @notice OperatorOracle only, with an agreed report: confirm the credentials of pending
            validators (they may then be activated), write off front-run ones (FAILED, the 1 ETH
            loss reaches stakers through the same report's balance; a pod gets its 31 ETH
            back), request exits, and record full withdrawals (their key shares free their
            operators' capacity).
    """
    assert msg.sender == self.oracle, "validator: caller is not the oracle"
    for validator_id: uint256 in confirmed:
        word: uint256 = self._word(validator_id)
        assert (word >> STATUS_SHIFT) & STATE_BITS == REGISTERED, "validator: not awaiting confirmation"
        self._validator[validator_id] = word | (CONFIRMED_BIT << STATUS_SHIFT)
        log CredentialsConfirmed(validator_id=validator_id)
    for validator_id: uint256 in rejected:
        word: uint256 = self._word(validator_id)
        assert (word >> STATUS_SHIFT) & STATE_BITS == REGISTERED, "validator: not awaiting confirmation"
        self._validator[validator_id] = self._with_status(word, FAILED)
        extcall IOperatorRegistry(OPERATORS).release(self._members(word), False)
        log ValidatorFailed(validator_id=validator_id, front_run=True, non_signers=[])
        if (word >> STATUS_SHIFT) & POD_BIT == 0:
            self._uncommit(REST_DEPOSIT)
        else:
            self._refund(validator_id, REST_DEPOSIT)
    for validator_id: uint256 in to_exit:
        word: uint256 = self._word(validator_id)
        assert (word >> STATUS_SHIFT) & 15 == ACTIVATED, "validator: not activated"
        self._validator[validator_id] = self._with_status(word, EXITING)
        log ExitRequested(validator_id=validator_id, by_ejection=False)
    for validator_id: uint256 in withdrawn:
        word: uint256 = self._word(validator_id)
        assert (word >> STATUS_SHIFT) & 15 == EXITING, "validator: not exiting"
        self._validator[validator_id] = self._with_status(word, WITHDRAWN)
        extcall IOperatorRegistry(OPERATORS).release(self._members(word), True)
        log ValidatorWithdrawn(validator_id=validator_id)


@external
def apply_pod_balances(validator_ids: DynArray[uint256, 128], balances: DynArray[uint256, 128]):
    """
    @notice OperatorOracle only, after `apply_report` of the same report: the beacon balance
            (wei) of pod validators that are ACTIVATED, EXITING or (0 once) WITHDRAWN, each
            forwarded to its pod's `on_balance` (accounting: a gain to mint, or a deficit);
            then each pod named gets one `on_report`, which mints and restakes its gains
            at once (one vault deposit per pod, not per validator).
    """
    assert msg.sender == self.oracle, "validator: caller is not the oracle"
    assert len(validator_ids) == len(balances), "validator: pod balances length mismatch"
    pods: DynArray[address, 128] = []
    for i: uint256 in range(128):
        if i == len(validator_ids):
            break
        validator_id: uint256 = validator_ids[i]
        status: uint256 = (self._word(validator_id) >> STATUS_SHIFT) & (15 | POD_BIT)
        assert status & POD_BIT != 0, "validator: not a pod validator"
        assert status & 15 in [ACTIVATED, EXITING, WITHDRAWN], "validator: pod validator not activated"
        pod: address = self.validator_pod[validator_id]
        extcall INativePod(pod).on_balance(validator_id, balances[i])
        if pod not in pods:
            pods.append(pod)
    for pod: address in pods:
        extcall INativePod(pod).on_report()


# ---------------------------------------------------------------- views


@external
@view
def validator(validator_id: uint256) -> (uint256, bool, uint256, uint256, DynArray[uint256, MAX_N]):
    """@notice (status, credentials confirmed, n, DKG deadline, member operator ids)."""
    word: uint256 = self._word(validator_id)
    status: uint256 = (word >> STATUS_SHIFT) & 255
    return (status & 15, status & CONFIRMED_BIT != 0, (word >> N_SHIFT) & 255, word >> DEADLINE_SHIFT, self._members(word))


@external
@view
def withdrawal_credentials(validator_id: uint256) -> bytes32:
    """@notice 0x01‖0…‖pod for a pod's validator, the WithdrawalVault's (WITHDRAWAL_CREDENTIALS) otherwise."""
    return self._credentials(validator_id, self._word(validator_id))


@external
@view
def pod_validators(pod: address) -> DynArray[uint256, MAX_POD_VALIDATORS]:
    """@notice Every validator id proposed for `pod` (re-proposals included), oldest first."""
    out: DynArray[uint256, MAX_POD_VALIDATORS] = []
    for i: uint256 in range(MAX_POD_VALIDATORS):
        if i == self.pod_validator_count[pod]:
            break
        out.append(self.pod_validator_at[pod][i])
    return out


@external
@view
def validator_count() -> uint256:
    """@notice The last validator id (ids start at 1)."""
    return self._state & MASK64


@external
@view
def cluster_size() -> uint256:
    """@notice n of the next proposals; t = ⌈2n/3⌉."""
    return (self._state >> SIZE_SHIFT) & 255


@external
@view
def dkg_timeout() -> uint256:
    """@notice Seconds a proposed cluster has to register."""
    return (self._state >> TIMEOUT_SHIFT) & (2**32 - 1)


@external
@view
def committed_ether() -> uint256:
    """@notice Buffer ETH promised to PROPOSED/REGISTERED validators."""
    return self._state >> COMMITTED_SHIFT


@external
@view
def acknowledgements(validator_id: uint256) -> uint256:
    """@notice Bitmap of members (by index) that acknowledged the DKG."""
    return self._acks[validator_id]


@external
@payable
def __default__():
    """@notice ETH arrives only from the pool, for deposits (pods pay through `propose_for_pod`)."""
    assert msg.sender == POOL, "validator: ETH only from the pool"

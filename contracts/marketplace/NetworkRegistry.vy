# pragma version ~=0.4.3
"""
@title Nektar marketplace: networks, opt-ins, allocations, slashing and reward epochs
@notice A network (identified by the address that registered it) publishes its terms;
        operators of the Diva OperatorRegistry opt in and allocate a fraction of the stake
        delegated to them in the RestakingVault (Σ ≤ 100%); the network's slasher requests
        slashes that its resolver may veto; provable equivocations (two BLS signatures by
        the operator's registered key on conflicting messages) slash without a veto; the
        network funds reward epochs split by allocated stake.
@dev    Allocation history is a checkpoint list per (network, operator) whose entries carry
        the time they *take effect*: an increase after ALLOCATION_DELAY, a decrease after the
        network's unbonding period, one pending change at a time, so `stake_at` is exact for
        any past time and a pending increase is never slashable early.
"""

from ethereum.ercs import IERC20
from . import bls


interface IOperatorRegistry:
    def operator_id(operator: address) -> uint256: view


interface IRestakingVault:
    def ASSET() -> address: view
    def stake(operator: address) -> uint256: view
    def stake_at(operator: address, timestamp: uint256) -> uint256: view
    def reserve_slash(operator: address, fraction: uint256) -> (uint256, uint256, uint256): nonpayable
    def release_slash(operator: address, from_active: uint256, from_queue: uint256, gen: uint256): nonpayable
    def execute_slash(operator: address, from_active: uint256, from_queue: uint256, gen: uint256, to: address): nonpayable
    def slash_now(operator: address, fraction: uint256, to: address) -> uint256: nonpayable
    def on_opt_in(network: address, operator: address, token: address): nonpayable
    def on_opt_out(network: address, operator: address, token: address): nonpayable
    def credit_rewards(network: address, token: address, operators: DynArray[address, 64], amounts: DynArray[uint256, 64], remainder: uint256): nonpayable


struct Terms:
    accepted_assets: DynArray[address, 4]
    min_stake: uint256
    max_operators: uint256
    max_slash: uint256  # WAD fraction of allocated stake one slash may take
    unbonding: uint256
    veto_window: uint256
    slasher: address
    resolver: address
    slash_to_network: bool  # False: burn
    metadata_uri: String[256]


struct Request:
    network: address
    operator: address
    from_active: uint256
    from_queue: uint256
    generation: uint256
    veto_until: uint256
    state: uint256


event NetworkRegistered:
    network: indexed(address)
    reward_token: address

event TermsProposed:
    network: indexed(address)
    effective_at: uint256

event TermsChanged:
    network: indexed(address)

event OptedIn:
    network: indexed(address)
    operator: indexed(address)

event OptOutRequested:
    network: indexed(address)
    operator: indexed(address)
    ready_at: uint256

event OptedOut:
    network: indexed(address)
    operator: indexed(address)

event AllocationSet:
    network: indexed(address)
    operator: indexed(address)
    fraction: uint256
    effective_at: uint256

event SlashRequested:
    request_id: indexed(uint256)
    network: indexed(address)
    operator: indexed(address)
    fraction: uint256
    evidence_hash: bytes32
    amount: uint256
    veto_until: uint256

event SlashVetoed:
    request_id: indexed(uint256)

event SlashExecuted:
    request_id: indexed(uint256)
    amount: uint256

event EquivocationSlashed:
    network: indexed(address)
    operator: indexed(address)
    task_id: bytes32
    amount: uint256

event EpochFunded:
    network: indexed(address)
    epoch: uint256
    amount: uint256


WAD: constant(uint256) = 10**18
MAX_OPERATORS: constant(uint256) = 64
MAX_NETWORKS: constant(uint256) = 8
MASK192: constant(uint256) = 2**192 - 1
MASK160: constant(uint256) = 2**160 - 1
MASK128: constant(uint256) = 2**128 - 1
PENDING: constant(uint256) = 1
VETOED: constant(uint256) = 2
EXECUTED: constant(uint256) = 3
JOINED: constant(uint256) = 1
LEAVING: constant(uint256) = 2

OPERATORS: public(immutable(IOperatorRegistry))
VAULT: public(immutable(IRestakingVault))
ALLOCATION_DELAY: public(immutable(uint256))
TERMS_DELAY: public(immutable(uint256))

governance: public(address)
whitelist_enabled: public(bool)
whitelisted: public(HashMap[address, bool])

_terms: HashMap[address, Terms]
_pending_terms: HashMap[address, Terms]
pending_terms_at: public(HashMap[address, uint256])
reward_token: public(HashMap[address, address])
network_of_slasher: public(HashMap[address, address])
epoch: public(HashMap[address, uint256])

membership: public(HashMap[address, HashMap[address, uint256]])  # network -> operator -> JOINED/LEAVING
opt_out_ready_at: public(HashMap[address, HashMap[address, uint256]])
network_operators: HashMap[address, DynArray[address, MAX_OPERATORS]]
operator_networks: HashMap[address, DynArray[address, MAX_OPERATORS]]  # ≤ MAX_NETWORKS

# allocation checkpoints: effective time << 192 | WAD fraction
_alloc: HashMap[address, HashMap[address, HashMap[uint256, uint256]]]
alloc_length: public(HashMap[address, HashMap[address, uint256]])

bls_key: public(HashMap[address, HashMap[address, Bytes[128]]])
# a request in 3 slots: network | state << 160 | veto_until << 168;
# operator | generation << 160; from_active | from_queue << 128
_request: HashMap[uint256, uint256[3]]
request_count: public(uint256)
evidence_used: public(HashMap[bytes32, bool])


@deploy
def __init__(operators: address, vault: address, allocation_delay: uint256, terms_delay: uint256):
    OPERATORS = IOperatorRegistry(operators)
    VAULT = IRestakingVault(vault)
    ALLOCATION_DELAY = allocation_delay
    TERMS_DELAY = terms_delay
    self.governance = msg.sender


# ------------------------------------------------------------------ governance


@external
def set_whitelist(enabled: bool):
    """@notice Optional gate on network registration."""
    assert msg.sender == self.governance, "not governance"
    self.whitelist_enabled = enabled


@external
def whitelist(network: address, allowed: bool):
    assert msg.sender == self.governance, "not governance"
    self.whitelisted[network] = allowed


# ------------------------------------------------------------------ networks


@internal
@view
def _check_terms(terms: Terms):
    asset: address = staticcall VAULT.ASSET()
    assert asset in terms.accepted_assets, "restaked asset not accepted"
    assert terms.max_slash <= WAD, "max slash above 100%"
    assert terms.max_operators > 0 and terms.max_operators <= MAX_OPERATORS, "bad max operators"
    assert terms.veto_window < terms.unbonding, "veto window not shorter than unbonding"
    assert terms.slasher != empty(address) and terms.resolver != empty(address), "zero address"


@internal
@view
def _known(network: address):
    assert self.reward_token[network] != empty(address), "unknown network"


@external
def register_network(terms: Terms, reward_token: address):
    """@notice The caller becomes a network with these terms; its reward token is fixed."""
    assert self.reward_token[msg.sender] == empty(address), "network already registered"
    if self.whitelist_enabled:
        assert self.whitelisted[msg.sender], "network not whitelisted"
    assert reward_token != empty(address), "zero address"
    assert reward_token != staticcall VAULT.ASSET(), "reward token is the restaked asset"
    self._check_terms(terms)
    assert self.network_of_slasher[terms.slasher] == empty(address), "slasher already used"
    self.network_of_slasher[terms.slasher] = msg.sender
    self._terms[msg.sender] = terms
    self.reward_token[msg.sender] = reward_token
    log NetworkRegistered(network=msg.sender, reward_token=reward_token)


@external
def propose_terms(terms: Terms):
    """@notice New terms apply only after TERMS_DELAY (operators can leave first)."""
    self._known(msg.sender)
    self._check_terms(terms)
    self._pending_terms[msg.sender] = terms
    self.pending_terms_at[msg.sender] = block.timestamp + TERMS_DELAY
    log TermsProposed(network=msg.sender, effective_at=block.timestamp + TERMS_DELAY)


@external
def apply_terms(network: address):
    """@notice Anyone applies proposed terms once their delay has passed."""
    ready: uint256 = self.pending_terms_at[network]
    assert ready != 0, "no pending terms"
    assert block.timestamp >= ready, "terms delay not passed"
    new: Terms = self._pending_terms[network]
    old: address = self._terms[network].slasher
    if new.slasher != old:
        assert self.network_of_slasher[new.slasher] == empty(address), "slasher already used"
        self.network_of_slasher[old] = empty(address)
        self.network_of_slasher[new.slasher] = network
    self._terms[network] = new
    self.pending_terms_at[network] = 0
    log TermsChanged(network=network)


@external
@view
def terms(network: address) -> Terms:
    return self._terms[network]


@external
@view
def operators_of(network: address) -> DynArray[address, MAX_OPERATORS]:
    return self.network_operators[network]


@external
@view
def networks_of(operator: address) -> DynArray[address, MAX_OPERATORS]:
    return self.operator_networks[operator]


@external
@view
def max_unbonding(operator: address) -> uint256:
    """@notice The longest unbonding period among the networks `operator` serves."""
    longest: uint256 = 0
    for network: address in self.operator_networks[operator]:
        longest = max(longest, self._terms[network].unbonding)
    return longest


@external
def register_bls_key(operator: address, pubkey: Bytes[128]):
    """@notice The network binds the BLS key `operator` signs its tasks with (EIP-2537 G1)."""
    self._known(msg.sender)
    assert self.membership[msg.sender][operator] != 0, "operator not opted in"
    assert bls.valid_g1(pubkey), "malformed BLS point"
    self.bls_key[msg.sender][operator] = pubkey


# ------------------------------------------------------------------ opt-in, allocations


@external
def opt_in(network: address):
    self._known(network)
    assert staticcall OPERATORS.operator_id(msg.sender) != 0, "not an operator"
    assert self.membership[network][msg.sender] == 0, "already opted in"
    terms: Terms = self._terms[network]
    assert len(self.network_operators[network]) < terms.max_operators, "network full"
    assert len(self.operator_networks[msg.sender]) < MAX_NETWORKS, "too many networks"
    assert staticcall VAULT.stake(msg.sender) >= terms.min_stake, "stake below network minimum"
    self.membership[network][msg.sender] = JOINED
    self.network_operators[network].append(msg.sender)
    self.operator_networks[msg.sender].append(network)
    extcall VAULT.on_opt_in(network, msg.sender, self.reward_token[network])
    log OptedIn(network=network, operator=msg.sender)


@internal
@view
def _alloc_at(network: address, operator: address, timestamp: uint256) -> uint256:
    """Binary search for the last checkpoint effective at `timestamp` (≤ 64 steps)."""
    low: uint256 = 0
    high: uint256 = self.alloc_length[network][operator]
    for _: uint256 in range(64):
        if low >= high:
            break
        mid: uint256 = (low + high) // 2
        if self._alloc[network][operator][mid] >> 192 > timestamp:
            high = mid
        else:
            low = mid + 1
    if low == 0:
        return 0
    return self._alloc[network][operator][low - 1] & MASK192


@internal
@view
def _latest(network: address, operator: address) -> (uint256, uint256):
    n: uint256 = self.alloc_length[network][operator]
    if n == 0:
        return 0, 0
    word: uint256 = self._alloc[network][operator][n - 1]
    return word & MASK192, word >> 192


@internal
def _push_alloc(network: address, operator: address, fraction: uint256, effective_at: uint256):
    n: uint256 = self.alloc_length[network][operator]
    self._alloc[network][operator][n] = (effective_at << 192) | fraction
    self.alloc_length[network][operator] = n + 1
    log AllocationSet(network=network, operator=operator, fraction=fraction, effective_at=effective_at)


@external
@view
def allocation(network: address, operator: address) -> uint256:
    """@notice The fraction (WAD) of the operator's stake allocated to `network` now."""
    return self._alloc_at(network, operator, block.timestamp)


@external
@view
def encumbered(operator: address) -> uint256:
    return self._encumbered(operator)


@internal
@view
def _encumbered(operator: address) -> uint256:
    """Σ over networks of max(effective now, latest scheduled): pending increases count."""
    total: uint256 = 0
    for network: address in self.operator_networks[operator]:
        latest: uint256 = 0
        at: uint256 = 0
        latest, at = self._latest(network, operator)
        total += max(latest, self._alloc_at(network, operator, block.timestamp))
    return total


@external
def allocate(network: address, fraction: uint256):
    """
    @notice Set the fraction of the caller's stake allocated to `network`: an increase takes
            effect after ALLOCATION_DELAY, a decrease after the network's unbonding period.
    """
    self._known(network)
    assert self.membership[network][msg.sender] == JOINED, "operator not opted in"
    current: uint256 = 0
    effective_at: uint256 = 0
    current, effective_at = self._latest(network, msg.sender)
    assert effective_at <= block.timestamp, "allocation change pending"
    assert fraction != current, "allocation unchanged"
    if fraction > current:
        assert self._encumbered(msg.sender) + fraction - current <= WAD, "allocations exceed 100%"
        self._push_alloc(network, msg.sender, fraction, block.timestamp + ALLOCATION_DELAY)
    else:
        self._push_alloc(network, msg.sender, fraction, block.timestamp + self._terms[network].unbonding)


@external
def request_opt_out(network: address):
    """@notice Start leaving: allocation goes to 0 and the opt-out completes after unbonding."""
    self._known(network)
    assert self.membership[network][msg.sender] == JOINED, "operator not opted in"
    ready: uint256 = block.timestamp + self._terms[network].unbonding
    current: uint256 = 0
    effective_at: uint256 = 0
    current, effective_at = self._latest(network, msg.sender)
    ready = max(ready, effective_at)
    if current != 0 or effective_at > block.timestamp:
        self._push_alloc(network, msg.sender, 0, ready)
    self.membership[network][msg.sender] = LEAVING
    self.opt_out_ready_at[network][msg.sender] = ready
    log OptOutRequested(network=network, operator=msg.sender, ready_at=ready)


@internal
def _remove(items: DynArray[address, MAX_OPERATORS], item: address) -> DynArray[address, MAX_OPERATORS]:
    out: DynArray[address, MAX_OPERATORS] = items
    n: uint256 = len(out)
    for i: uint256 in range(MAX_OPERATORS):
        if i >= n:
            break
        if out[i] == item:
            out[i] = out[n - 1]
            out.pop()
            break
    return out


@external
def opt_out(network: address):
    self._known(network)
    assert self.membership[network][msg.sender] == LEAVING, "opt-out not requested"
    assert block.timestamp >= self.opt_out_ready_at[network][msg.sender], "unbonding not passed"
    self.membership[network][msg.sender] = 0
    self.network_operators[network] = self._remove(self.network_operators[network], msg.sender)
    self.operator_networks[msg.sender] = self._remove(self.operator_networks[msg.sender], network)
    extcall VAULT.on_opt_out(network, msg.sender, self.reward_token[network])
    log OptedOut(network=network, operator=msg.sender)


@external
@view
def stake_at(network: address, operator: address, timestamp: uint256) -> uint256:
    """@notice Stake `operator` had allocated to `network` at `timestamp` (checkpointed)."""
    return self._alloc_at(network, operator, timestamp) * staticcall VAULT.stake_at(operator, timestamp) // WAD


# ------------------------------------------------------------------ slashing


@internal
def _claim_evidence(network: address, provable: bool, evidence: bytes32):
    """Single use per network; requests and equivocation proofs have separate namespaces, so
    a slasher cannot pre-empt a proof by requesting with the proof's evidence key."""
    key: bytes32 = keccak256(abi_encode(network, provable, evidence))
    assert not self.evidence_used[key], "evidence already used"
    self.evidence_used[key] = True


@external
def request_slash(operator: address, fraction: uint256, evidence_hash: bytes32) -> uint256:
    """
    @notice By a network's slasher: reserve `fraction` (WAD, ≤ the network's max) of the
            operator's stake allocated to the network now; executable after the veto window.
    """
    network: address = self.network_of_slasher[msg.sender]
    assert network != empty(address), "not a slasher"
    assert self.membership[network][operator] != 0, "operator not opted in"
    terms: Terms = self._terms[network]
    assert fraction > 0, "zero fraction"
    assert fraction <= terms.max_slash, "fraction above network maximum"
    self._claim_evidence(network, False, evidence_hash)
    effective: uint256 = fraction * self._alloc_at(network, operator, block.timestamp) // WAD
    assert effective > 0, "nothing allocated"
    from_active: uint256 = 0
    from_queue: uint256 = 0
    gen: uint256 = 0
    from_active, from_queue, gen = extcall VAULT.reserve_slash(operator, effective)
    request_id: uint256 = self.request_count + 1
    self.request_count = request_id
    veto_until: uint256 = block.timestamp + terms.veto_window
    assert from_active < 2**128 and from_queue < 2**128 and gen < 2**96, "amount overflow"
    self._request[request_id] = [
        convert(network, uint256) | (PENDING << 160) | (veto_until << 168),
        convert(operator, uint256) | (gen << 160),
        from_active | (from_queue << 128),
    ]
    log SlashRequested(
        request_id=request_id,
        network=network,
        operator=operator,
        fraction=fraction,
        evidence_hash=evidence_hash,
        amount=from_active + from_queue,
        veto_until=veto_until,
    )
    return request_id


@internal
@view
def _unpack(request_id: uint256) -> Request:
    words: uint256[3] = self._request[request_id]
    return Request(
        network=convert(convert(words[0] & MASK160, uint160), address),
        operator=convert(convert(words[1] & MASK160, uint160), address),
        from_active=words[2] & MASK128,
        from_queue=words[2] >> 128,
        generation=words[1] >> 160,
        veto_until=words[0] >> 168,
        state=(words[0] >> 160) & 255,
    )


@internal
def _set_state(request_id: uint256, state: uint256):
    word: uint256 = self._request[request_id][0]
    self._request[request_id][0] = (word & ~(255 << 160)) | (state << 160)


@external
@view
def request(request_id: uint256) -> Request:
    """@notice A slash request (all zero if unknown)."""
    return self._unpack(request_id)


@external
def veto_slash(request_id: uint256):
    """@notice By the network's resolver, before the veto window closes."""
    r: Request = self._unpack(request_id)
    assert r.state == PENDING, "slash not pending"
    assert msg.sender == self._terms[r.network].resolver, "not the resolver"
    assert block.timestamp < r.veto_until, "veto window closed"
    self._set_state(request_id, VETOED)
    extcall VAULT.release_slash(r.operator, r.from_active, r.from_queue, r.generation)
    log SlashVetoed(request_id=request_id)


@internal
@view
def _destination(network: address) -> address:
    if self._terms[network].slash_to_network:
        return network
    return empty(address)


@external
def execute_slash(request_id: uint256):
    """@notice Anyone, once the veto window has passed: O(1) whatever the restaker count."""
    r: Request = self._unpack(request_id)
    assert r.state == PENDING, "slash not pending"
    assert block.timestamp >= r.veto_until, "veto window open"
    self._set_state(request_id, EXECUTED)
    extcall VAULT.execute_slash(
        r.operator, r.from_active, r.from_queue, r.generation, self._destination(r.network)
    )
    log SlashExecuted(request_id=request_id, amount=r.from_active + r.from_queue)


@external
def slash_equivocation(
    network: address,
    operator: address,
    message_a: Bytes[bls.MAX_MESSAGE],
    signature_a: Bytes[256],
    message_b: Bytes[bls.MAX_MESSAGE],
    signature_b: Bytes[256],
) -> uint256:
    """
    @notice Anyone proves that `operator`'s registered BLS key signed two different payloads
            for one task (the first 32 bytes of a message are its task id): the network's
            maximum fraction of the allocated stake is slashed at once, no veto.
    """
    self._known(network)
    assert self.membership[network][operator] != 0, "operator not opted in"
    pubkey: Bytes[128] = self.bls_key[network][operator]
    assert len(pubkey) == 128, "no BLS key for operator"
    assert len(message_a) >= 32 and len(message_b) >= 32, "message without task id"
    task_id: bytes32 = extract32(message_a, 0)
    assert extract32(message_b, 0) == task_id, "different tasks"
    assert keccak256(message_a) != keccak256(message_b), "no conflict"
    self._claim_evidence(network, True, keccak256(abi_encode(operator, task_id)))
    assert bls.verify_two(pubkey, message_a, signature_a, message_b, signature_b), "invalid signature"
    effective: uint256 = self._terms[network].max_slash * self._alloc_at(network, operator, block.timestamp) // WAD
    assert effective > 0, "nothing allocated"
    amount: uint256 = extcall VAULT.slash_now(operator, effective, self._destination(network))
    log EquivocationSlashed(network=network, operator=operator, task_id=task_id, amount=amount)
    return amount


# ------------------------------------------------------------------ rewards


@external
def fund_epoch(amount: uint256) -> uint256:
    """
    @notice The caller (a network) pays one epoch of rewards in its token, split by the
            stake each opted-in operator has allocated to it now; what no stake can take
            stays claimable by the network in the vault. Returns the epoch number.
    """
    self._known(msg.sender)
    assert amount > 0, "zero amount"
    token: address = self.reward_token[msg.sender]
    operators: DynArray[address, MAX_OPERATORS] = self.network_operators[msg.sender]
    weights: DynArray[uint256, MAX_OPERATORS] = []
    total: uint256 = 0
    for operator: address in operators:
        w: uint256 = self._alloc_at(msg.sender, operator, block.timestamp) * staticcall VAULT.stake(operator) // WAD
        weights.append(w)
        total += w
    amounts: DynArray[uint256, MAX_OPERATORS] = []
    paid: uint256 = 0
    for w: uint256 in weights:
        share: uint256 = 0
        if total > 0:
            share = amount * w // total
        amounts.append(share)
        paid += share
    extcall IERC20(token).transferFrom(msg.sender, VAULT.address, amount)
    extcall VAULT.credit_rewards(msg.sender, token, operators, amounts, amount - paid)
    number: uint256 = self.epoch[msg.sender] + 1
    self.epoch[msg.sender] = number
    log EpochFunded(network=msg.sender, epoch=number, amount=amount)
    return number

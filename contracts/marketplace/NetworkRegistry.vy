# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Nektar marketplace: networks, opt-ins, allocations, slashing and reward epochs
@notice A network (identified by the address that registered it) publishes its terms;
        operators of the Diva OperatorRegistry opt in and allocate a fraction of the stake
        delegated to them in the RestakingVault (Σ ≤ 100%); the network's slasher requests
        slashes that its resolver may veto; provable equivocations (two BLS signatures by
        the operator's registered key on conflicting messages) slash without a veto; the
        network funds reward epochs split by allocated stake.
        Several RestakingVaults (≤ MAX_VAULTS: the constructor's wdivETH vault is vault 0,
        governance adds e.g. the native nETH vault) can back networks: a network's accepted
        assets choose its vaults, its stake is the ETH value summed over them, a slash takes
        the same fraction in each and rewards are split per (vault, operator).
@dev    Allocation history is a checkpoint list per (network, operator) whose entries carry
        the time they *take effect*: an increase after ALLOCATION_DELAY, a decrease after the
        network's unbonding period, one pending change at a time, so `stake_at` is exact for
        any past time and a pending increase is never slashable early.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626
from . import bls


interface IOperatorRegistry:
    def operator_id(operator: address) -> uint256: view


interface IRestakingVault:
    def ASSET() -> address: view
    def network_registry() -> address: view
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

event VaultAdded:
    index: indexed(uint256)
    vault: indexed(address)
    asset: address
    priced_by_4626: bool

event EpochFunded:
    network: indexed(address)
    epoch: uint256
    amount: uint256


WAD: constant(uint256) = 10**18
MAX_OPERATORS: constant(uint256) = 64
MAX_NETWORKS: constant(uint256) = 8
MAX_VAULTS: constant(uint256) = 4
MASK192: constant(uint256) = 2**192 - 1
MASK160: constant(uint256) = 2**160 - 1
MASK128: constant(uint256) = 2**128 - 1
MASK104: constant(uint256) = 2**104 - 1
MASK80: constant(uint256) = 2**80 - 1
PENDING: constant(uint256) = 1
VETOED: constant(uint256) = 2
EXECUTED: constant(uint256) = 3
JOINED: constant(uint256) = 1
LEAVING: constant(uint256) = 2

OPERATORS: public(immutable(IOperatorRegistry))
VAULT: public(immutable(IRestakingVault))  # vault 0 (wdivETH, priced by ERC-4626)
VAULT_ASSET: immutable(address)
ALLOCATION_DELAY: public(immutable(uint256))
TERMS_DELAY: public(immutable(uint256))

governance: public(address)
whitelist_enabled: public(bool)
whitelisted: public(HashMap[address, bool])

vault_count: public(uint256)
vaults: public(HashMap[uint256, address])  # index -> RestakingVault
vault_assets: public(HashMap[uint256, address])  # index -> its ASSET()
vault_priced_by_4626: public(HashMap[uint256, bool])  # value = convertToAssets, else 1:1
_asset_index: HashMap[address, uint256]  # asset -> vault index + 1

_terms: HashMap[address, Terms]
_pending_terms: HashMap[address, Terms]
pending_terms_at: public(HashMap[address, uint256])
# reward token | mask of the vaults its accepted assets select << 160 (fixed at registration)
_network: HashMap[address, uint256]
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
# a request in 3 slots: network | state << 160 | veto_until << 168 | vault mask << 248;
# operator | generation << 160; from_active | from_queue << 128 (the last two: vault 0)
_request: HashMap[uint256, uint256[3]]
# the reservation in vault i ≥ 1: from_active | from_queue << 104 | generation << 208
_reservation: HashMap[uint256, HashMap[uint256, uint256]]
request_count: public(uint256)
evidence_used: public(HashMap[bytes32, bool])


@deploy
def __init__(operators: address, vault: address, allocation_delay: uint256, terms_delay: uint256):
    OPERATORS = IOperatorRegistry(operators)
    VAULT = IRestakingVault(vault)
    VAULT_ASSET = staticcall IRestakingVault(vault).ASSET()
    self.vaults[0] = vault
    self.vault_assets[0] = VAULT_ASSET
    self.vault_priced_by_4626[0] = True
    self._asset_index[VAULT_ASSET] = 1
    self.vault_count = 1
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


@external
def add_vault(vault: address, priced_by_4626: bool):
    """
    @notice Governance adds a RestakingVault (e.g. native restaked ETH, nETH, valued 1:1)
            whose stake networks may accept next to wdivETH. The vault must already take
            slashes from this registry, and its asset must not back another vault.
    @param priced_by_4626 Value the asset in ETH by its ERC-4626 `convertToAssets`; else 1:1.
    """
    assert msg.sender == self.governance, "not governance"
    n: uint256 = self.vault_count
    assert n < MAX_VAULTS, "too many vaults"
    assert staticcall IRestakingVault(vault).network_registry() == self, "vault not wired to this registry"
    asset: address = staticcall IRestakingVault(vault).ASSET()
    index: uint256 = self._asset_index[asset]
    if index != 0:
        assert self.vaults[index - 1] != vault, "vault already added"
        raise "asset already has a vault"
    self.vaults[n] = vault
    self.vault_assets[n] = asset
    self.vault_priced_by_4626[n] = priced_by_4626
    self._asset_index[asset] = n + 1
    self.vault_count = n + 1
    log VaultAdded(index=n, vault=vault, asset=asset, priced_by_4626=priced_by_4626)


@external
@view
def vault_of_asset(asset: address) -> address:
    """@notice The RestakingVault of a restaked asset (empty if none)."""
    index: uint256 = self._asset_index[asset]
    if index == 0:
        return empty(address)
    return self.vaults[index - 1]


@internal
@view
def _vault(index: uint256) -> IRestakingVault:
    if index == 0:
        return VAULT
    return IRestakingVault(self.vaults[index])


@internal
@view
def _eth_value(index: uint256, amount: uint256) -> uint256:
    """ETH value of `amount` of vault `index`'s asset (ERC-4626 convertToAssets, or 1:1)."""
    asset: address = VAULT_ASSET
    if index != 0:
        if not self.vault_priced_by_4626[index]:
            return amount
        asset = self.vault_assets[index]
    if amount == 0:
        return 0
    return staticcall IERC4626(asset).convertToAssets(amount)


@internal
@view
def _stake(mask: uint256, operator: address, timestamp: uint256) -> uint256:
    """Σ over the vaults in `mask` of `operator`'s stake valued in ETH at today's rates: now
    (timestamp = 0) or checkpointed at `timestamp`."""
    total: uint256 = 0
    for i: uint256 in range(MAX_VAULTS):
        if mask >> i == 0:
            break
        if mask & (1 << i) == 0:
            continue
        amount: uint256 = 0
        if timestamp == 0:
            amount = staticcall self._vault(i).stake(operator)
        else:
            amount = staticcall self._vault(i).stake_at(operator, timestamp)
        total += self._eth_value(i, amount)
    return total


# ------------------------------------------------------------------ networks


@internal
@view
def _check_terms(terms: Terms) -> uint256:
    """Validate and return the mask of the vaults the accepted assets select."""
    mask: uint256 = 0
    for asset: address in terms.accepted_assets:
        index: uint256 = self._asset_index[asset]
        assert index != 0, "unknown asset"
        assert mask & (1 << (index - 1)) == 0, "duplicate asset"
        mask |= 1 << (index - 1)
    assert mask != 0, "restaked asset not accepted"
    assert terms.max_slash <= WAD, "max slash above 100%"
    assert terms.max_operators > 0 and terms.max_operators <= MAX_OPERATORS, "bad max operators"
    assert terms.veto_window < terms.unbonding, "veto window not shorter than unbonding"
    assert terms.slasher != empty(address) and terms.resolver != empty(address), "zero address"
    return mask


@internal
@view
def _network_mask(network: address) -> uint256:
    """The vault mask of a registered network (reverts for an unknown one)."""
    word: uint256 = self._network[network]
    assert word != 0, "unknown network"
    return word >> 160


@internal
@view
def _known(network: address):
    assert self._network[network] != 0, "unknown network"


@external
@view
def reward_token(network: address) -> address:
    """@notice The network's reward token (empty: not a network)."""
    return convert(convert(self._network[network] & MASK160, uint160), address)


@external
@view
def network_vaults(network: address) -> uint256:
    """@notice Bit i set: the network accepts the asset of vault i."""
    return self._network[network] >> 160


@external
def register_network(terms: Terms, reward_token: address):
    """
    @notice The caller becomes a network with these terms; its reward token and accepted
            assets (the vaults its opted-in operators' reward accumulators live in) are fixed.
    """
    assert self._network[msg.sender] == 0, "network already registered"
    if self.whitelist_enabled:
        assert self.whitelisted[msg.sender], "network not whitelisted"
    assert reward_token != empty(address), "zero address"
    assert self._asset_index[reward_token] == 0, "reward token is the restaked asset"
    mask: uint256 = self._check_terms(terms)
    assert self.network_of_slasher[terms.slasher] == empty(address), "slasher already used"
    self.network_of_slasher[terms.slasher] = msg.sender
    self._terms[msg.sender] = terms
    self._network[msg.sender] = convert(reward_token, uint256) | (mask << 160)
    log NetworkRegistered(network=msg.sender, reward_token=reward_token)


@external
def propose_terms(terms: Terms):
    """@notice New terms apply only after TERMS_DELAY (operators can leave first)."""
    mask: uint256 = self._network_mask(msg.sender)
    assert self._check_terms(terms) == mask, "accepted assets are fixed"
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
    """@notice Join `network`: the caller's ETH-valued stake over its accepted vaults must
            reach the network's minimum; each of those vaults opens a reward accumulator."""
    word: uint256 = self._network[network]
    assert word != 0, "unknown network"
    assert staticcall OPERATORS.operator_id(msg.sender) != 0, "not an operator"
    assert self.membership[network][msg.sender] == 0, "already opted in"
    assert len(self.network_operators[network]) < self._terms[network].max_operators, "network full"
    assert len(self.operator_networks[msg.sender]) < MAX_NETWORKS, "too many networks"
    mask: uint256 = word >> 160
    assert self._stake(mask, msg.sender, 0) >= self._terms[network].min_stake, "stake below network minimum"
    self.membership[network][msg.sender] = JOINED
    self.network_operators[network].append(msg.sender)
    self.operator_networks[msg.sender].append(network)
    self._notify(word, network, msg.sender, True)
    log OptedIn(network=network, operator=msg.sender)


@internal
def _notify(word: uint256, network: address, operator: address, joined: bool):
    """Open (opt-in) or freeze (opt-out) the reward accumulator in each accepted vault."""
    token: address = convert(convert(word & MASK160, uint160), address)
    mask: uint256 = word >> 160
    for i: uint256 in range(MAX_VAULTS):
        if mask >> i == 0:
            break
        if mask & (1 << i) == 0:
            continue
        if joined:
            extcall self._vault(i).on_opt_in(network, operator, token)
        else:
            extcall self._vault(i).on_opt_out(network, operator, token)


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
    self._notify(self._network[network], network, msg.sender, False)
    log OptedOut(network=network, operator=msg.sender)


@external
@view
def stake_at(network: address, operator: address, timestamp: uint256) -> uint256:
    """
    @notice Stake `operator` had allocated to `network` at `timestamp`, in ETH: Σ over the
            network's vaults of the checkpointed stake at `timestamp`, each valued at the
            asset's rate *now* (no rate history is kept on chain; nETH is 1:1 at any time).
    """
    fraction: uint256 = self._alloc_at(network, operator, timestamp)
    if fraction == 0 or timestamp == 0:
        return 0
    return fraction * self._stake(self._network[network] >> 160, operator, timestamp) // WAD


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
            operator's stake allocated to the network now, in every vault the network
            accepts; executable after the veto window. The event's amount sums the assets.
    """
    network: address = self.network_of_slasher[msg.sender]
    assert network != empty(address), "not a slasher"
    assert self.membership[network][operator] != 0, "operator not opted in"
    assert fraction > 0, "zero fraction"
    assert fraction <= self._terms[network].max_slash, "fraction above network maximum"
    self._claim_evidence(network, False, evidence_hash)
    effective: uint256 = fraction * self._alloc_at(network, operator, block.timestamp) // WAD
    assert effective > 0, "nothing allocated"
    request_id: uint256 = self.request_count + 1
    self.request_count = request_id
    mask: uint256 = self._network[network] >> 160
    from_active: uint256 = 0
    from_queue: uint256 = 0
    gen: uint256 = 0
    total: uint256 = 0
    for i: uint256 in range(MAX_VAULTS):
        if mask >> i == 0:
            break
        if mask & (1 << i) == 0:
            continue
        a: uint256 = 0
        q: uint256 = 0
        g: uint256 = 0
        a, q, g = extcall self._vault(i).reserve_slash(operator, effective)
        total += a + q
        if i == 0:
            from_active = a
            from_queue = q
            gen = g
        else:
            assert a <= MASK104 and q <= MASK104 and g < 2**48, "amount overflow"
            self._reservation[request_id][i] = a | (q << 104) | (g << 208)
    veto_until: uint256 = block.timestamp + self._terms[network].veto_window
    assert from_active < 2**128 and from_queue < 2**128 and gen < 2**96, "amount overflow"
    assert veto_until <= MASK80, "veto window too long"
    self._request[request_id] = [
        convert(network, uint256) | (PENDING << 160) | (veto_until << 168) | (mask << 248),
        convert(operator, uint256) | (gen << 160),
        from_active | (from_queue << 128),
    ]
    log SlashRequested(
        request_id=request_id,
        network=network,
        operator=operator,
        fraction=fraction,
        evidence_hash=evidence_hash,
        amount=total,
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
        veto_until=(words[0] >> 168) & MASK80,
        state=(words[0] >> 160) & 255,
    )


@internal
def _set_state(request_id: uint256, state: uint256):
    word: uint256 = self._request[request_id][0]
    self._request[request_id][0] = (word & ~(255 << 160)) | (state << 160)


@external
@view
def request(request_id: uint256) -> Request:
    """@notice A slash request (all zero if unknown); the amounts and generation are those
            reserved in vault 0 (`reservation` gives every vault's)."""
    return self._unpack(request_id)


@internal
@view
def _reserved(request_id: uint256, r: Request, index: uint256) -> (uint256, uint256, uint256):
    """(from_active, from_queue, generation) reserved in vault `index`."""
    if index == 0:
        return r.from_active, r.from_queue, r.generation
    word: uint256 = self._reservation[request_id][index]
    return word & MASK104, (word >> 104) & MASK104, word >> 208


@external
@view
def reservation(request_id: uint256, index: uint256) -> (uint256, uint256, uint256):
    """@notice (from_active, from_queue, generation) a request reserved in vault `index`."""
    if (self._request[request_id][0] >> 248) & (1 << index) == 0:
        return 0, 0, 0
    return self._reserved(request_id, self._unpack(request_id), index)


@internal
def _close(request_id: uint256, r: Request, execute: bool) -> uint256:
    """Release (veto) or apply (execute) the request's reservation in each of its vaults;
    returns the total amount (sum of the assets)."""
    mask: uint256 = self._request[request_id][0] >> 248
    to: address = empty(address)
    if execute:
        to = self._destination(r.network)
    total: uint256 = 0
    for i: uint256 in range(MAX_VAULTS):
        if mask >> i == 0:
            break
        if mask & (1 << i) == 0:
            continue
        a: uint256 = 0
        q: uint256 = 0
        g: uint256 = 0
        a, q, g = self._reserved(request_id, r, i)
        if execute:
            extcall self._vault(i).execute_slash(r.operator, a, q, g, to)
        else:
            extcall self._vault(i).release_slash(r.operator, a, q, g)
        total += a + q
    return total


@external
def veto_slash(request_id: uint256):
    """@notice By the network's resolver, before the veto window closes."""
    r: Request = self._unpack(request_id)
    assert r.state == PENDING, "slash not pending"
    assert msg.sender == self._terms[r.network].resolver, "not the resolver"
    assert block.timestamp < r.veto_until, "veto window closed"
    self._set_state(request_id, VETOED)
    self._close(request_id, r, False)
    log SlashVetoed(request_id=request_id)


@internal
@view
def _destination(network: address) -> address:
    if self._terms[network].slash_to_network:
        return network
    return empty(address)


@internal
def _slash_now(network: address, operator: address, fraction: uint256) -> uint256:
    """Slash `fraction` at once in every vault the network accepts; the sum of the assets."""
    mask: uint256 = self._network[network] >> 160
    to: address = self._destination(network)
    total: uint256 = 0
    for i: uint256 in range(MAX_VAULTS):
        if mask >> i == 0:
            break
        if mask & (1 << i) != 0:
            total += extcall self._vault(i).slash_now(operator, fraction, to)
    return total


@external
def execute_slash(request_id: uint256):
    """@notice Anyone, once the veto window has passed: O(1) whatever the restaker count
            (one call per vault of the network)."""
    r: Request = self._unpack(request_id)
    assert r.state == PENDING, "slash not pending"
    assert block.timestamp >= r.veto_until, "veto window open"
    self._set_state(request_id, EXECUTED)
    amount: uint256 = self._close(request_id, r, True)
    log SlashExecuted(request_id=request_id, amount=amount)


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
    amount: uint256 = self._slash_now(network, operator, effective)
    log EquivocationSlashed(network=network, operator=operator, task_id=task_id, amount=amount)
    return amount


# ------------------------------------------------------------------ rewards


@external
def fund_epoch(amount: uint256) -> uint256:
    """
    @notice The caller (a network) pays one epoch of rewards in its token, split per
            (vault, operator) by the ETH value of the stake each opted-in operator has
            allocated to it now in each accepted vault; what no stake can take stays
            claimable by the network (`unallocated`) in its first accepted vault.
            Returns the epoch number.
    @dev    With several vaults each asset is valued by one `convertToAssets(10**18)` rate
            per call (with one vault the rate is a common factor and is not read).
    """
    word: uint256 = self._network[msg.sender]
    assert word != 0, "unknown network"
    assert amount > 0, "zero amount"
    token: address = convert(convert(word & MASK160, uint160), address)
    mask: uint256 = word >> 160
    operators: DynArray[address, MAX_OPERATORS] = self.network_operators[msg.sender]
    weights: DynArray[DynArray[uint256, MAX_OPERATORS], MAX_VAULTS] = []
    total: uint256 = 0
    for v: uint256 in range(MAX_VAULTS):
        if mask >> v == 0:
            break
        row: DynArray[uint256, MAX_OPERATORS] = []
        if mask & (1 << v) != 0:
            rate: uint256 = WAD
            if mask != 1 << v:
                rate = self._eth_value(v, WAD)
            vault: IRestakingVault = self._vault(v)
            for operator: address in operators:
                w: uint256 = self._alloc_at(msg.sender, operator, block.timestamp) * staticcall vault.stake(operator) // WAD * rate // WAD
                row.append(w)
                total += w
        weights.append(row)
    left: uint256 = amount
    n: uint256 = len(weights)
    for k: uint256 in range(MAX_VAULTS):  # highest vault first: the remainder goes to the lowest
        if k >= n:
            break
        v: uint256 = n - 1 - k
        if mask & (1 << v) == 0:
            continue
        amounts: DynArray[uint256, MAX_OPERATORS] = weights[v]
        paid: uint256 = 0
        for j: uint256 in range(MAX_OPERATORS):
            if j >= len(amounts):
                break
            share: uint256 = 0
            if total > 0:
                share = amount * amounts[j] // total
            amounts[j] = share
            paid += share
        left -= paid
        remainder: uint256 = 0
        if mask & ((1 << v) - 1) == 0:
            remainder = left
        if paid + remainder == 0:
            continue
        vault: IRestakingVault = self._vault(v)
        extcall IERC20(token).transferFrom(msg.sender, vault.address, paid + remainder)
        extcall vault.credit_rewards(msg.sender, token, operators, amounts, remainder)
    number: uint256 = self.epoch[msg.sender] + 1
    self.epoch[msg.sender] = number
    log EpochFunded(network=msg.sender, epoch=number, amount=amount)
    return number

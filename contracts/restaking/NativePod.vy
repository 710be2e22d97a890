# pragma version ~=0.4.3
"""
@title NativePod: a restaker's own DVT validators, restaked as nETH
@notice The owner sends multiples of 32 ETH (`stake`); each 32 ETH becomes a ValidatorRegistry
        `propose_for_pod`, so the validator is created by an operator cluster's DKG with
        withdrawal credentials 0x01‖0…‖pod: its withdrawals land here, no credential proof is
        needed. The oracle's beacon balances for these validators reach `on_balance`: an
        increase mints nETH (1 nETH per ETH) and restakes it in the native RestakingVault with
        the pod's operator; a decrease is matched with ETH that arrived here from the beacon
        chain (a skim or a full withdrawal), the rest is a deficit (a penalty) that later
        increases or arrivals cover first. Withdrawals go through the vault's queue, so its
        delay and slashing apply; `complete_withdrawal` burns the nETH returned and pays the
        owner that much ETH (less any deficit) from ETH withdrawn from the beacon chain.
@dev Accounting, exact at every step: minted = Σ reported balances + accounted ETH + deficit.
     Slashed nETH leaves the vault for the slash destination but its ETH stays here (counted
     in `accounted`); the owner is never paid for it, and `sweep_slashed` sends it to the
     factory's sink once the pod has no position left. A round trip therefore never pays more
     ETH than was staked plus the rewards the oracle reported.
     Storage lives in each EIP-1167 proxy; `initialize` is the constructor.
"""


interface IValidatorRegistry:
    def propose_for_pod() -> uint256: payable
    def request_pod_exit(validator_id: uint256): nonpayable
    def pod_validators(pod: address) -> DynArray[uint256, 128]: view


interface INativeEther:
    def mint(owner: address, amount: uint256): nonpayable
    def burn(amount: uint256): nonpayable
    def approve(spender: address, amount: uint256) -> bool: nonpayable
    def balanceOf(account: address) -> uint256: view


interface IERC20:
    def transfer(to: address, amount: uint256) -> bool: nonpayable


interface IOperatorRegistry:
    def operator_id(operator: address) -> uint256: view


interface IRestakingVault:
    def OPERATORS() -> address: view
    def deposit(amount: uint256, operator: address) -> uint256: nonpayable
    def queue_withdrawal(amount_shares: uint256) -> uint256: nonpayable
    def redelegate(operator: address) -> uint256: nonpayable
    def complete_withdrawal(withdrawal_id: uint256) -> uint256: nonpayable
    def delegated_to(restaker: address) -> address: view
    def shares(restaker: address) -> uint256: view
    def value_of(restaker: address) -> uint256: view
    def claim(token: address, network: address, operator: address, gen: uint256) -> uint256: nonpayable


event Staked:
    validator_ids: DynArray[uint256, MAX_PER_STAKE]

event BalanceApplied:
    validator_id: indexed(uint256)
    balance: uint256
    minted: uint256
    deficit: uint256

event Restaked:
    operator: indexed(address)
    amount: uint256

event PodDelegated:
    operator: indexed(address)
    withdrawal_id: uint256

event PodWithdrawalQueued:
    withdrawal_id: indexed(uint256)
    shares: uint256

event PodWithdrawalCompleted:
    withdrawal_id: indexed(uint256)
    returned: uint256
    paid: uint256

event RestakeDeferred:
    operator: indexed(address)
    amount: uint256

event PodRewardsClaimed:
    token: indexed(address)
    network: indexed(address)
    operator: indexed(address)
    amount: uint256

event RefundReceived:
    amount: uint256

event SlashedEtherSwept:
    sink: indexed(address)
    amount: uint256


VALIDATOR_ETHER: constant(uint256) = 32 * 10**18
MAX_PER_STAKE: constant(uint256) = 8
# Gas the report's optional vault deposit always gets: a deposit settles at most MAX_NETWORKS
# (8) reward accumulators; measured ≤ 400k (an operator's first deposit, 8 networks).
RESTAKE_GAS: constant(uint256) = 600_000
# What the pod must have left before that call: the callee gets at most 63/64 of it (EIP-150),
# plus the call itself and the bookkeeping after it.
RESTAKE_RESERVE: constant(uint256) = RESTAKE_GAS * 64 // 63 + 20_000

owner: public(address)
factory: public(address)
registry: public(IValidatorRegistry)
native_ether: public(INativeEther)
vault: public(IRestakingVault)
slash_sink: public(address)
operator: public(address)

reported: public(HashMap[uint256, uint256])
reported_total: public(uint256)
minted: public(uint256)
accounted: public(uint256)
deficit: public(uint256)
refundable: public(uint256)
idle: public(uint256)
unminted: public(uint256)
pending: public(HashMap[uint256, bool])
pending_count: public(uint256)


@deploy
def __init__():
    """@dev The implementation itself can never be initialized; only its proxies are."""
    self.factory = self


@external
def initialize(owner: address, registry: address, native_ether: address, vault: address, slash_sink: address):
    """@notice Called once by the factory right after it created this proxy."""
    assert self.factory == empty(address), "pod: already initialized"
    self.factory = msg.sender
    self.owner = owner
    self.registry = IValidatorRegistry(registry)
    self.native_ether = INativeEther(native_ether)
    self.vault = IRestakingVault(vault)
    self.slash_sink = slash_sink
    extcall INativeEther(native_ether).approve(vault, max_value(uint256))


@internal
@view
def _only_owner():
    assert msg.sender == self.owner, "pod: caller is not the owner"


@internal
@view
def _arrived() -> uint256:
    """@dev ETH here not yet matched with a reported decrease (nor a refund)."""
    return self.balance - self.refundable - self.accounted


@internal
def _cover_deficit():
    """@dev ETH that arrived after its decrease was reported pays the deficit back."""
    deficit: uint256 = self.deficit
    if deficit == 0:
        return
    covered: uint256 = min(deficit, self._arrived())
    self.deficit = deficit - covered
    self.accounted += covered


@internal
def _restake(strict: bool):
    """@dev Deposit idle nETH with the operator; from the oracle path a refusal (approval
         required, operator fully slashed, dust) leaves it idle for `restake` instead of
         reverting, and says so (`RestakeDeferred`)."""
    amount: uint256 = self.idle
    operator: address = self.operator
    if amount == 0 or operator == empty(address):
        return
    if strict:
        extcall self.vault.deposit(amount, operator)
    else:
        # Never let the caller's gas limit decide: a report given too little gas for the
        # deposit reverts (so eth_estimateGas includes it), and the deposit always runs with
        # RESTAKE_GAS, so a refusal is the vault's answer, never an out-of-gas.
        assert msg.gas >= RESTAKE_RESERVE, "pod: report gas too low to restake"
        ok: bool = raw_call(
            self.vault.address,
            abi_encode(amount, operator, method_id=method_id("deposit(uint256,address)")),
            gas=RESTAKE_GAS,
            revert_on_failure=False,
        )
        if not ok:
            log RestakeDeferred(operator=operator, amount=amount)
            return
    self.idle = 0
    log Restaked(operator=operator, amount=amount)


# ---------------------------------------------------------------- owner


@external
@payable
@nonreentrant
def stake() -> DynArray[uint256, MAX_PER_STAKE]:
    """@notice Fund one validator per 32 ETH sent (1 to 8); returns their ids."""
    self._only_owner()
    assert msg.value != 0 and msg.value % VALIDATOR_ETHER == 0, "pod: stake must be a multiple of 32 ETH"
    count: uint256 = msg.value // VALIDATOR_ETHER
    assert count <= MAX_PER_STAKE, "pod: at most 8 validators per stake"
    ids: DynArray[uint256, MAX_PER_STAKE] = []
    for i: uint256 in range(MAX_PER_STAKE):
        if i == count:
            break
        ids.append(extcall self.registry.propose_for_pod(value=VALIDATOR_ETHER))
    log Staked(validator_ids=ids)
    return ids


@external
@nonreentrant
def delegate(operator: address) -> uint256:
    """
    @notice Restake the whole nETH position with `operator` (an OperatorRegistry operator).
            Changing operator redelegates in the vault, which queues every share: complete
            that withdrawal (its id is returned, 0 if none) like any other.
    """
    self._only_owner()
    assert staticcall IOperatorRegistry(staticcall self.vault.OPERATORS()).operator_id(operator) != 0, "pod: not an operator"
    current: address = self.operator
    assert operator != current, "pod: already delegated to operator"
    withdrawal_id: uint256 = 0
    if staticcall self.vault.delegated_to(self) != empty(address):
        withdrawal_id = extcall self.vault.redelegate(operator)
        if withdrawal_id != 0:
            self.pending[withdrawal_id] = True
            self.pending_count += 1
    self.operator = operator
    log PodDelegated(operator=operator, withdrawal_id=withdrawal_id)
    self._restake(True)
    return withdrawal_id


@external
@nonreentrant
def restake():
    """@notice Deposit nETH that an earlier report could not restake (owner)."""
    self._only_owner()
    assert self.operator != empty(address), "pod: not delegated"
    assert self.idle != 0, "pod: nothing to restake"
    self._restake(True)


@external
def request_exit(validator_id: uint256):
    """@notice Ask the exit of one of this pod's ACTIVATED validators (its cluster signs it)."""
    self._only_owner()
    extcall self.registry.request_pod_exit(validator_id)


@external
@nonreentrant
def queue_withdrawal(shares: uint256) -> uint256:
    """@notice Queue vault shares for withdrawal (slashable until completed); returns the id."""
    self._only_owner()
    withdrawal_id: uint256 = extcall self.vault.queue_withdrawal(shares)
    self.pending[withdrawal_id] = True
    self.pending_count += 1
    log PodWithdrawalQueued(withdrawal_id=withdrawal_id, shares=shares)
    return withdrawal_id


@external
@nonreentrant
def complete_withdrawal(withdrawal_id: uint256) -> uint256:
    """
    @notice After the vault's delay: take the nETH back (only the pod may complete its
            withdrawals in the vault), burn it and pay the owner as much ETH, less any
            deficit, from ETH withdrawn from the beacon chain. Returns the ETH paid.
    """
    self._only_owner()
    assert self.pending[withdrawal_id], "pod: unknown withdrawal"
    self.pending[withdrawal_id] = False
    self.pending_count -= 1
    returned: uint256 = extcall self.vault.complete_withdrawal(withdrawal_id)
    self._cover_deficit()
    deficit: uint256 = self.deficit
    taken: uint256 = min(returned, deficit)
    paid: uint256 = returned - taken
    assert paid <= self.accounted, "pod: not enough withdrawn ETH"
    self.deficit = deficit - taken
    self.accounted -= paid
    # nETH minted by another pod may reach this one through vault rounding: never underflow
    self.minted -= min(self.minted, returned)
    if returned != 0:
        extcall self.native_ether.burn(returned)
    log PodWithdrawalCompleted(withdrawal_id=withdrawal_id, returned=returned, paid=paid)
    if paid != 0:
        raw_call(self.owner, b"", value=paid)
    return paid


@external
@nonreentrant
def claim_rewards(
    token: address, network: address, generation: uint256, operator: address = empty(address)
) -> uint256:
    """
    @notice Claim the network rewards the pod's vault position earned (the pod is the
            restaker in the native vault) and pay them to the owner. `generation` is the
            operator's opt-in generation in the vault; `operator` defaults to the current one
            (a previous operator's accumulators stay claimable after a redelegation).
    """
    self._only_owner()
    who: address = operator
    if who == empty(address):
        who = self.operator
    amount: uint256 = extcall self.vault.claim(token, network, who, generation)
    assert extcall IERC20(token).transfer(self.owner, amount, default_return_value=True), "pod: reward transfer failed"
    log PodRewardsClaimed(token=token, network=network, operator=who, amount=amount)
    return amount


@external
@nonreentrant
def claim_refund() -> uint256:
    """@notice Take back ETH the registry refunded (no cluster, or credentials front-run)."""
    self._only_owner()
    amount: uint256 = self.refundable
    assert amount != 0, "pod: nothing refunded"
    self.refundable = 0
    raw_call(self.owner, b"", value=amount)
    return amount


@external
@nonreentrant
def sweep_slashed() -> uint256:
    """
    @notice Anyone, once the pod has no position left (no vault shares, no pending
            withdrawal, no nETH, no validator balance): send the ETH that backed slashed nETH
            to the factory's sink and write that nETH off.
    """
    assert self.reported_total == 0, "pod: validators still hold balance"
    assert self.pending_count == 0, "pod: withdrawals pending"
    assert staticcall self.vault.shares(self) == 0, "pod: still restaked"
    assert staticcall self.native_ether.balanceOf(self) == 0, "pod: holds nETH"
    amount: uint256 = self.accounted
    assert amount != 0, "pod: nothing to sweep"
    self.accounted = 0
    self.minted = 0
    self.deficit = 0
    log SlashedEtherSwept(sink=self.slash_sink, amount=amount)
    raw_call(self.slash_sink, b"", value=amount)
    return amount


# ---------------------------------------------------------------- registry


@external
def on_balance(validator_id: uint256, balance: uint256):
    """
    @notice ValidatorRegistry only (from an agreed oracle report): the beacon balance of one
            of this pod's validators. More than last time: the difference (after covering a
            deficit) is owed as nETH, minted by `on_report`; less: match it with ETH that
            arrived here, the rest becomes a deficit.
    """
    assert msg.sender == self.registry.address, "pod: caller is not the validator registry"
    previous: uint256 = self.reported[validator_id]
    self.reported[validator_id] = balance
    self._cover_deficit()
    deficit: uint256 = self.deficit
    minted: uint256 = 0
    if balance > previous:
        gain: uint256 = balance - previous
        offset: uint256 = min(gain, deficit)
        deficit -= offset
        minted = gain - offset
        self.reported_total += gain
    elif balance < previous:
        loss: uint256 = previous - balance
        self.reported_total -= loss
        covered: uint256 = min(loss, self._arrived())
        self.accounted += covered
        deficit += loss - covered
    self.deficit = deficit
    log BalanceApplied(validator_id=validator_id, balance=balance, minted=minted, deficit=deficit)
    if minted != 0:
        self.minted += minted
        self.unminted += minted


@external
def on_report():
    """@notice ValidatorRegistry only, once per pod and report after its `on_balance` calls:
            mint the nETH owed and restake it (a refusal leaves it idle for `restake`)."""
    assert msg.sender == self.registry.address, "pod: caller is not the validator registry"
    amount: uint256 = self.unminted
    if amount == 0:
        return
    self.unminted = 0
    self.idle += amount
    extcall self.native_ether.mint(self, amount)
    self._restake(False)


@external
@payable
def __default__():
    """@notice Refunds from the registry are the owner's to claim; any other ETH (beacon
            withdrawals arrive without a call) backs nETH once the oracle reports it."""
    if msg.sender == self.registry.address:
        self.refundable += msg.value
        log RefundReceived(amount=msg.value)


# ---------------------------------------------------------------- views


@external
@view
def restaked_balance() -> uint256:
    """@notice nETH the pod's active vault shares are worth now."""
    return staticcall self.vault.value_of(self)


@external
@view
def validators() -> DynArray[uint256, 128]:
    """@notice Every validator id proposed for this pod (re-proposals included)."""
    return staticcall self.registry.pod_validators(self)


@external
@view
def withdrawable_ether() -> uint256:
    """@notice ETH withdrawn from the beacon chain and reported, available to pay withdrawals."""
    return self.accounted

# pragma version ~=0.4.3
"""
@title divETH: Diva Ether, a share-based rebasing ERC-20
@notice Every holder owns *shares*; its balance is shares × total pooled ETH ÷ total shares,
        where the StakingPool is the only source of total pooled ETH. Rewards and losses that
        the pool reports therefore rebase every balance at once. The surface follows stETH
        (`sharesOf`, `getPooledEthByShares`, `getSharesByPooledEth`, `transferShares`,
        `transferSharesFrom`, `TransferShares`) so integrations written for stETH work.
        Snekmate's erc20 keeps balances, not shares, so the ledger is written here; the
        EIP-712 domain (EIP-2612 permit, EIP-5267) and signature recovery come from snekmate.
        INITIAL_SHARES are minted to a dead address at deployment and backed 1:1 by the
        pool's initial deposit, so the share price can never be inflated from an empty pool.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


interface IStakingPool:
    def total_pooled_ether() -> uint256: view


event TransferShares:
    sender: indexed(address)
    receiver: indexed(address)
    sharesValue: uint256


event SharesBurnt:
    account: indexed(address)
    preRebaseTokenAmount: uint256
    postRebaseTokenAmount: uint256
    sharesAmount: uint256


INITIAL_SHARES: public(constant(uint256)) = 1000
DEAD_ADDRESS: public(constant(address)) = 0x000000000000000000000000000000000000dEaD
INFINITE_ALLOWANCE: constant(uint256) = max_value(uint256)
_PERMIT_TYPE_HASH: constant(bytes32) = keccak256(
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)

name: public(constant(String[25])) = "Diva Ether"
symbol: public(constant(String[8])) = "divETH"
decimals: public(constant(uint8)) = 18

POOL: public(immutable(address))
withdrawal_queue: public(address)

_shares: HashMap[address, uint256]
_total_shares: uint256
allowance: public(HashMap[address, HashMap[address, uint256]])
nonces: public(HashMap[address, uint256])


@deploy
def __init__(pool: address):
    """
    @notice Deploy after the StakingPool; mints the dead shares that the pool's initial
            deposit (made in `StakingPool.initialize`) backs.
    """
    assert pool != empty(address), "divETH: pool is the zero address"
    eip712_domain_separator.__init__("Diva Ether", "1")
    POOL = pool
    self._shares[DEAD_ADDRESS] = INITIAL_SHARES
    self._total_shares = INITIAL_SHARES
    log TransferShares(sender=empty(address), receiver=DEAD_ADDRESS, sharesValue=INITIAL_SHARES)
    log IERC20.Transfer(sender=empty(address), receiver=DEAD_ADDRESS, value=INITIAL_SHARES)


# ---------------------------------------------------------------- share views


@internal
@view
def _pooled() -> uint256:
    return staticcall IStakingPool(POOL).total_pooled_ether()


@internal
@view
def _eth_by_shares(shares: uint256, pooled: uint256, round_up: bool) -> uint256:
    total: uint256 = self._total_shares
    value: uint256 = shares * pooled // total
    if round_up and value * total != shares * pooled:
        value += 1
    return value


@internal
@view
def _shares_by_eth(eth: uint256, pooled: uint256) -> uint256:
    if pooled == 0:
        return 0
    return eth * self._total_shares // pooled


@external
@view
def totalSupply() -> uint256:
    """@notice Total divETH = total pooled ETH (the sum of balances is lower by < 1 wei each)."""
    return self._pooled()


@external
@view
def getTotalPooledEther() -> uint256:
    return self._pooled()


@external
@view
def getTotalShares() -> uint256:
    return self._total_shares


@external
@view
def sharesOf(account: address) -> uint256:
    return self._shares[account]


@external
@view
def balanceOf(account: address) -> uint256:
    return self._eth_by_shares(self._shares[account], self._pooled(), False)


@external
@view
def getPooledEthByShares(shares: uint256) -> uint256:
    """@notice ETH value of `shares`, rounded down."""
    return self._eth_by_shares(shares, self._pooled(), False)


@external
@view
def getPooledEthBySharesRoundUp(shares: uint256) -> uint256:
    """@notice ETH value of `shares`, rounded up (what a spender must be allowed to move)."""
    return self._eth_by_shares(shares, self._pooled(), True)


@external
@view
def getSharesByPooledEth(eth: uint256) -> uint256:
    """@notice Shares worth `eth`, rounded down."""
    return self._shares_by_eth(eth, self._pooled())


# ---------------------------------------------------------------- ERC-20


@internal
def _move_shares(sender: address, receiver: address, shares: uint256):
    assert receiver != empty(address), "divETH: transfer to the zero address"
    assert receiver != self, "divETH: transfer to the divETH contract"
    balance: uint256 = self._shares[sender]
    assert shares <= balance, "divETH: transfer amount exceeds balance"
    self._shares[sender] = unsafe_sub(balance, shares)
    self._shares[receiver] += shares


@internal
def _transfer(sender: address, receiver: address, amount: uint256) -> uint256:
    shares: uint256 = self._shares_by_eth(amount, self._pooled())
    self._move_shares(sender, receiver, shares)
    log IERC20.Transfer(sender=sender, receiver=receiver, value=amount)
    log TransferShares(sender=sender, receiver=receiver, sharesValue=shares)
    return shares


@internal
def _approve(owner: address, spender: address, amount: uint256):
    assert owner != empty(address), "divETH: approve from the zero address"
    assert spender != empty(address), "divETH: approve to the zero address"
    self.allowance[owner][spender] = amount
    log IERC20.Approval(owner=owner, spender=spender, value=amount)


@internal
def _spend_allowance(owner: address, spender: address, amount: uint256):
    current: uint256 = self.allowance[owner][spender]
    if current != INFINITE_ALLOWANCE:
        assert current >= amount, "divETH: insufficient allowance"
        self.allowance[owner][spender] = unsafe_sub(current, amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self._spend_allowance(sender, msg.sender, amount)
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self._approve(msg.sender, spender, amount)
    return True


@external
def transferShares(receiver: address, shares: uint256) -> uint256:
    """@notice Move exactly `shares`; returns their ETH value (rounded down)."""
    self._move_shares(msg.sender, receiver, shares)
    value: uint256 = self._eth_by_shares(shares, self._pooled(), False)
    log IERC20.Transfer(sender=msg.sender, receiver=receiver, value=value)
    log TransferShares(sender=msg.sender, receiver=receiver, sharesValue=shares)
    return value


@external
def transferSharesFrom(sender: address, receiver: address, shares: uint256) -> uint256:
    """
    @notice Move exactly `shares` of `sender`. The allowance is spent by their ETH value
            rounded UP, so no sequence of share transfers can move more value than approved.
    """
    pooled: uint256 = self._pooled()
    self._spend_allowance(sender, msg.sender, self._eth_by_shares(shares, pooled, True))
    self._move_shares(sender, receiver, shares)
    value: uint256 = self._eth_by_shares(shares, pooled, False)
    log IERC20.Transfer(sender=sender, receiver=receiver, value=value)
    log TransferShares(sender=sender, receiver=receiver, sharesValue=shares)
    return value


# ---------------------------------------------------------------- EIP-2612


@external
def permit(
    owner: address,
    spender: address,
    amount: uint256,
    deadline: uint256,
    v: uint8,
    r: bytes32,
    s: bytes32,
):
    """@notice EIP-2612: approve by signature (snekmate's EIP-712 domain and ecrecover)."""
    assert block.timestamp <= deadline, "divETH: permit expired"
    nonce: uint256 = self.nonces[owner]
    self.nonces[owner] = unsafe_add(nonce, 1)
    struct_hash: bytes32 = keccak256(
        abi_encode(_PERMIT_TYPE_HASH, owner, spender, amount, nonce, deadline)
    )
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(struct_hash)
    signer: address = ecdsa._recover_vrs(
        digest, convert(v, uint256), convert(r, uint256), convert(s, uint256)
    )
    assert signer == owner and signer != empty(address), "divETH: invalid permit signature"
    self._approve(owner, spender, amount)


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    return eip712_domain_separator._domain_separator_v4()


# ---------------------------------------------------------------- burning


@internal
def _burn(account: address, shares: uint256):
    assert shares != 0, "divETH: zero shares"
    balance: uint256 = self._shares[account]
    assert shares <= balance, "divETH: burn amount exceeds balance"
    pooled: uint256 = self._pooled()
    pre_value: uint256 = self._eth_by_shares(shares, pooled, False)
    self._shares[account] = unsafe_sub(balance, shares)
    self._total_shares -= shares
    post_value: uint256 = self._eth_by_shares(shares, pooled, False)
    log SharesBurnt(
        account=account,
        preRebaseTokenAmount=pre_value,
        postRebaseTokenAmount=post_value,
        sharesAmount=shares,
    )
    log TransferShares(sender=account, receiver=empty(address), sharesValue=shares)
    log IERC20.Transfer(sender=account, receiver=empty(address), value=pre_value)


@external
def burn_shares(shares: uint256):
    """
    @notice Burn the caller's own shares: the ETH behind them stays in the pool, a gift to
            every other holder. The WithdrawalQueue burns finalized requests' shares this way.
    """
    self._burn(msg.sender, shares)


# ---------------------------------------------------------------- pool / queue hooks


@external
def set_withdrawal_queue(queue: address):
    """@notice Called once by the pool while it is initialised."""
    assert msg.sender == POOL, "divETH: caller is not the pool"
    assert self.withdrawal_queue == empty(address), "divETH: queue already set"
    assert queue != empty(address), "divETH: queue is the zero address"
    self.withdrawal_queue = queue


@external
def mint_for_ether(receiver: address, amount: uint256, pooled_before: uint256) -> uint256:
    """
    @notice Mint shares for a deposit of `amount` wei at the rate before it
            (`pooled_before` ÷ total shares), rounded down so the deposit never dilutes others.
    """
    assert msg.sender == POOL, "divETH: caller is not the pool"
    shares: uint256 = amount * self._total_shares // pooled_before
    assert shares != 0, "divETH: deposit buys zero shares"
    self._shares[receiver] += shares
    self._total_shares += shares
    log IERC20.Transfer(sender=empty(address), receiver=receiver, value=amount)
    log TransferShares(sender=empty(address), receiver=receiver, sharesValue=shares)
    return shares


@external
def mint_shares(receiver: address, shares: uint256) -> uint256:
    """@notice Mint fee shares (pool only); returns their ETH value."""
    assert msg.sender == POOL, "divETH: caller is not the pool"
    assert receiver != empty(address), "divETH: mint to the zero address"
    self._shares[receiver] += shares
    self._total_shares += shares
    value: uint256 = self._eth_by_shares(shares, self._pooled(), False)
    log IERC20.Transfer(sender=empty(address), receiver=receiver, value=value)
    log TransferShares(sender=empty(address), receiver=receiver, sharesValue=shares)
    return value


@external
def pull_for_withdrawal(owner: address, amount: uint256) -> uint256:
    """
    @notice Lock `amount` divETH of `owner` in the WithdrawalQueue (queue only). The queue
            passes its own caller as `owner`, so a request needs no separate approval.
    @return the shares moved (rounded down, as a transfer of `amount` would move).
    """
    queue: address = self.withdrawal_queue
    assert msg.sender == queue, "divETH: caller is not the withdrawal queue"
    return self._transfer(owner, queue, amount)

# pragma version ~=0.4.3
"""
@title Diva WithdrawalQueue
@notice divETH holders request withdrawals (0.1 to 1,000 divETH each, several per
        transaction); each request is an ERC-721 token owned by its requester and can be
        transferred until claimed. The divETH is locked here as shares. The StakingPool
        finalizes requests strictly in order with the ETH it has, at one share rate per
        batch: a request receives min(its divETH amount at request time, its shares × the
        batch rate), so a loss reported before finalization is shared by the requests.
        Finalized shares are burned and their ETH locked here until the owner claims it.
@dev A minimal ERC-721 ledger is written here instead of snekmate's erc721, which always
     maintains the enumerable extension (five more fresh storage slots per mint, ~100k gas)
     and mints through an owner/minter role; see docs/diva-lst.md. Each request takes two
     storage slots: owner | shares, and the ETH amount (request-time, then final).
"""

from ethereum.ercs import IERC165
from ethereum.ercs import IERC721

implements: IERC165
implements: IERC721


interface IDivEther:
    def pull_for_withdrawal(owner: address, amount: uint256) -> uint256: nonpayable
    def burn_shares(shares: uint256): nonpayable


event WithdrawalRequested:
    request_id: indexed(uint256)
    requestor: indexed(address)
    owner: indexed(address)
    amount_of_ether: uint256
    amount_of_shares: uint256


event WithdrawalsFinalized:
    from_id: indexed(uint256)
    to_id: indexed(uint256)
    amount_of_ether_locked: uint256
    shares_burned: uint256
    pooled_ether: uint256
    total_shares: uint256


event WithdrawalClaimed:
    request_id: indexed(uint256)
    owner: indexed(address)
    receiver: indexed(address)
    amount_of_ether: uint256


MIN_AMOUNT: public(constant(uint256)) = 10**17
MAX_AMOUNT: public(constant(uint256)) = 1_000 * 10**18
MAX_BATCH: public(constant(uint256)) = 32
MAX_FINALIZE: constant(uint256) = 1_000
MASK64: constant(uint256) = 2**64 - 1
MASK96: constant(uint256) = 2**96 - 1
MASK160: constant(uint256) = 2**160 - 1
_ON_RECEIVED: constant(bytes4) = method_id("onERC721Received(address,address,uint256,bytes)", output_type=bytes4)
_SUPPORTED_INTERFACES: constant(bytes4[2]) = [0x01FFC9A7, 0x80AC58CD]

name: public(constant(String[32])) = "Diva divETH Withdrawal NFT"
symbol: public(constant(String[16])) = "unDIVETH"

POOL: public(immutable(address))
TOKEN: public(immutable(address))

# last request id (bits 0..63) | unfinalized shares (64..159) | unfinalized request ETH (160..255)
_state: uint256
# last finalized id (bits 0..63) | ETH locked for claims (64..255)
_finalized: uint256
# per request: owner (bits 0..159) | shares (160..255); zero once claimed
_requests: HashMap[uint256, uint256]
# per request: divETH amount at request time, replaced by the final ETH at finalization
_request_ether: HashMap[uint256, uint256]

_balances: HashMap[address, uint256]
_token_approvals: HashMap[uint256, address]
isApprovedForAll: public(HashMap[address, HashMap[address, bool]])


@deploy
def __init__(pool: address, token: address):
    assert pool != empty(address) and token != empty(address), "queue: zero address"
    POOL = pool
    TOKEN = token


# ---------------------------------------------------------------- views


@external
@view
def last_request_id() -> uint256:
    return self._state & MASK64


@external
@view
def unfinalized_shares() -> uint256:
    return (self._state >> 64) & MASK96


@external
@view
def unfinalized_ether() -> uint256:
    """@notice Sum of the divETH amounts of unfinalized requests (their request-time value)."""
    return self._state >> 160


@external
@view
def last_finalized_id() -> uint256:
    return self._finalized & MASK64


@external
@view
def locked_ether() -> uint256:
    return self._finalized >> 64


@external
@view
def get_request(request_id: uint256) -> (address, uint256, uint256, bool, bool):
    """
    @notice (owner, shares, ether, finalized, claimed). `ether` is the request-time divETH
            amount until finalization, then the ETH to claim.
    """
    assert request_id != 0 and request_id <= self._state & MASK64, "queue: unknown request"
    slot: uint256 = self._requests[request_id]
    return (
        convert(slot & MASK160, address),
        slot >> 160,
        self._request_ether[request_id],
        request_id <= self._finalized & MASK64,
        slot == 0,
    )


@internal
@view
def _batch_value(request_id: uint256, pooled: uint256, shares: uint256) -> (uint256, uint256, uint256):
    """@return (ETH paid at this batch rate, shares burned, request-time amount)."""
    request_shares: uint256 = self._requests[request_id] >> 160
    requested: uint256 = self._request_ether[request_id]
    return (min(requested, request_shares * pooled // shares), request_shares, requested)


@external
@view
def prefinalize(max_eth: uint256, pooled: uint256, shares: uint256, max_requests: uint256) -> (uint256, uint256):
    """
    @notice How far the pool can finalize with `max_eth` at the rate pooled ÷ shares,
            in order and at most `max_requests` requests: (last id, ETH needed).
    """
    last_finalized: uint256 = self._finalized & MASK64
    last_request: uint256 = self._state & MASK64
    reach: uint256 = min(last_request, last_finalized + min(max_requests, MAX_FINALIZE))
    total: uint256 = 0
    last: uint256 = last_finalized
    for request_id: uint256 in range(last_finalized + 1, reach + 1, bound=MAX_FINALIZE):
        value: uint256 = self._batch_value(request_id, pooled, shares)[0]
        if total + value > max_eth:
            break
        total += value
        last = request_id
    return (last, total)


@internal
@view
def _owner_of(request_id: uint256) -> address:
    return convert(self._requests[request_id] & MASK160, address)


@external
@view
def ownerOf(token_id: uint256) -> address:
    owner: address = self._owner_of(token_id)
    assert owner != empty(address), "queue: invalid request id"
    return owner


@external
@view
def balanceOf(owner: address) -> uint256:
    assert owner != empty(address), "queue: balance of the zero address"
    return self._balances[owner]


@external
@view
def getApproved(token_id: uint256) -> address:
    assert self._owner_of(token_id) != empty(address), "queue: invalid request id"
    return self._token_approvals[token_id]


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    return interface_id in _SUPPORTED_INTERFACES


# ---------------------------------------------------------------- requests


@external
@nonreentrant
def request_withdrawals(amounts: DynArray[uint256, MAX_BATCH], owner: address = msg.sender) -> DynArray[uint256, MAX_BATCH]:
    """
    @notice Lock the caller's divETH for each amount and mint a request to `owner`. The
            queue moves the caller's own divETH through divETH's queue hook, so no approval
            is needed. Returns the request ids.
    """
    assert len(amounts) != 0, "queue: no amounts"
    assert owner != empty(address), "queue: owner is the zero address"
    state: uint256 = self._state
    last_id: uint256 = state & MASK64
    locked_shares: uint256 = (state >> 64) & MASK96
    locked_ether: uint256 = state >> 160
    ids: DynArray[uint256, MAX_BATCH] = []
    for amount: uint256 in amounts:
        assert amount >= MIN_AMOUNT, "queue: request below 0.1 divETH"
        assert amount <= MAX_AMOUNT, "queue: request above 1,000 divETH"
        shares: uint256 = extcall IDivEther(TOKEN).pull_for_withdrawal(msg.sender, amount)
        last_id += 1
        self._requests[last_id] = (shares << 160) | convert(owner, uint256)
        self._request_ether[last_id] = amount
        locked_shares += shares
        locked_ether += amount
        ids.append(last_id)
        log IERC721.Transfer(sender=empty(address), receiver=owner, token_id=last_id)
        log WithdrawalRequested(
            request_id=last_id,
            requestor=msg.sender,
            owner=owner,
            amount_of_ether=amount,
            amount_of_shares=shares,
        )
    assert locked_shares <= MASK96, "queue: unfinalized shares overflow"
    assert locked_ether <= MASK96, "queue: unfinalized ether overflow"
    self._state = (locked_ether << 160) | (locked_shares << 64) | last_id
    self._balances[owner] += len(amounts)
    return ids


# ---------------------------------------------------------------- finalization


@external
@payable
@nonreentrant
def finalize(last_id: uint256, pooled: uint256, shares: uint256):
    """
    @notice Pool only: finalize requests up to `last_id` at the rate pooled ÷ shares.
            `msg.value` must be exactly the ETH they receive; their shares are burned.
    """
    assert msg.sender == POOL, "queue: caller is not the pool"
    finalized: uint256 = self._finalized
    first: uint256 = (finalized & MASK64) + 1
    state: uint256 = self._state
    assert last_id >= first and last_id <= state & MASK64, "queue: invalid finalization range"
    assert last_id - first < MAX_FINALIZE, "queue: finalization batch too large"
    assert shares != 0, "queue: zero total shares"
    total: uint256 = 0
    burned: uint256 = 0
    requested: uint256 = 0
    for request_id: uint256 in range(first, last_id + 1, bound=MAX_FINALIZE):
        value: uint256 = 0
        request_shares: uint256 = 0
        amount: uint256 = 0
        value, request_shares, amount = self._batch_value(request_id, pooled, shares)
        self._request_ether[request_id] = value
        total += value
        burned += request_shares
        requested += amount
    assert total == msg.value, "queue: value does not match the batch"
    locked_shares: uint256 = ((state >> 64) & MASK96) - burned
    self._state = (((state >> 160) - requested) << 160) | (locked_shares << 64) | (state & MASK64)
    self._finalized = (((finalized >> 64) + total) << 64) | last_id
    extcall IDivEther(TOKEN).burn_shares(burned)
    log WithdrawalsFinalized(
        from_id=first,
        to_id=last_id,
        amount_of_ether_locked=total,
        shares_burned=burned,
        pooled_ether=pooled,
        total_shares=shares,
    )


# ---------------------------------------------------------------- claims


@external
@nonreentrant
def claim_withdrawal(request_id: uint256, recipient: address = msg.sender):
    """@notice The owner of a finalized request takes its ETH, once."""
    slot: uint256 = self._requests[request_id]
    owner: address = convert(slot & MASK160, address)
    if owner == empty(address):
        assert request_id == 0 or request_id > self._state & MASK64, "queue: request already claimed"
        raise "queue: unknown request"
    assert owner == msg.sender, "queue: caller is not the request owner"
    assert recipient != empty(address), "queue: recipient is the zero address"
    finalized: uint256 = self._finalized
    assert request_id <= finalized & MASK64, "queue: request not finalized"
    value: uint256 = self._request_ether[request_id]
    self._requests[request_id] = 0
    self._request_ether[request_id] = 0
    self._balances[owner] -= 1
    self._finalized = finalized - (value << 64)
    log IERC721.Transfer(sender=owner, receiver=empty(address), token_id=request_id)
    log WithdrawalClaimed(request_id=request_id, owner=owner, receiver=recipient, amount_of_ether=value)
    success: bool = raw_call(recipient, b"", value=value, revert_on_failure=False)
    assert success, "queue: ETH transfer failed"


# ---------------------------------------------------------------- ERC-721


@internal
@view
def _is_approved_or_owner(spender: address, owner: address, token_id: uint256) -> bool:
    return spender == owner or self.isApprovedForAll[owner][spender] or self._token_approvals[token_id] == spender


@external
@payable
def approve(approved: address, token_id: uint256):
    assert msg.value == 0, "queue: ETH not accepted"
    owner: address = self._owner_of(token_id)
    assert owner != empty(address), "queue: invalid request id"
    assert approved != owner, "queue: approval to the current owner"
    assert msg.sender == owner or self.isApprovedForAll[owner][msg.sender], "queue: caller is not owner nor operator"
    self._token_approvals[token_id] = approved
    log IERC721.Approval(owner=owner, approved=approved, token_id=token_id)


@external
def setApprovalForAll(operator: address, approved: bool):
    assert operator != msg.sender, "queue: approve to caller"
    self.isApprovedForAll[msg.sender][operator] = approved
    log IERC721.ApprovalForAll(owner=msg.sender, operator=operator, approved=approved)


@internal
def _transfer(owner: address, receiver: address, token_id: uint256):
    slot: uint256 = self._requests[token_id]
    assert slot != 0, "queue: invalid request id"
    assert convert(slot & MASK160, address) == owner, "queue: transfer from incorrect owner"
    assert receiver != empty(address), "queue: transfer to the zero address"
    assert self._is_approved_or_owner(msg.sender, owner, token_id), "queue: caller is not owner nor approved"
    if self._token_approvals[token_id] != empty(address):
        self._token_approvals[token_id] = empty(address)
    self._requests[token_id] = (slot & ~MASK160) | convert(receiver, uint256)
    self._balances[owner] -= 1
    self._balances[receiver] += 1
    log IERC721.Transfer(sender=owner, receiver=receiver, token_id=token_id)


@external
@payable
@nonreentrant
def transferFrom(owner: address, receiver: address, token_id: uint256):
    assert msg.value == 0, "queue: ETH not accepted"
    self._transfer(owner, receiver, token_id)


@external
@payable
@nonreentrant
def safeTransferFrom(owner: address, receiver: address, token_id: uint256, data: Bytes[1_024] = b""):
    assert msg.value == 0, "queue: ETH not accepted"
    self._transfer(owner, receiver, token_id)
    if receiver.is_contract:
        success: bool = False
        response: Bytes[32] = b""
        success, response = raw_call(
            receiver,
            abi_encode(msg.sender, owner, token_id, data, method_id=_ON_RECEIVED),
            max_outsize=32,
            revert_on_failure=False,
        )
        assert success and len(response) == 32 and convert(slice(response, 0, 4), bytes4) == _ON_RECEIVED, "queue: receiver rejected the request NFT"

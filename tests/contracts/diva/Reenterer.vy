# pragma version ~=0.4.3
"""
@notice Test-only attacker: a depositor, requester and claim/ETH receiver that tries to
        re-enter the queue or the pool when ETH reaches it, and records what happened.
"""


interface IPool:
    def deposit() -> uint256: payable


interface IQueue:
    def request_withdrawals(amounts: DynArray[uint256, 32], owner: address) -> DynArray[uint256, 32]: nonpayable
    def claim_withdrawal(request_id: uint256, recipient: address): nonpayable


pool: public(address)
queue: public(address)
reenter_with: public(Bytes[120])
reentry_succeeded: public(bool)
reentry_attempts: public(uint256)
reject_ether: public(bool)


@deploy
def __init__(pool: address, queue: address):
    self.pool = pool
    self.queue = queue


@external
def arm(target: address, payload: Bytes[100]):
    """Re-enter `target` with `payload` on the next incoming ETH (target is queue or pool)."""
    self.reenter_with = concat(convert(target, bytes20), payload)


@external
def set_reject_ether(reject: bool):
    self.reject_ether = reject


@external
@payable
def stake() -> uint256:
    return extcall IPool(self.pool).deposit(value=msg.value)


@external
def request(amount: uint256) -> uint256:
    ids: DynArray[uint256, 32] = extcall IQueue(self.queue).request_withdrawals([amount], self)
    return ids[0]


@external
def claim(request_id: uint256):
    extcall IQueue(self.queue).claim_withdrawal(request_id, self)


@external
@payable
def __default__():
    assert not self.reject_ether, "attacker: ETH rejected"
    payload: Bytes[120] = self.reenter_with
    if len(payload) > 20:
        self.reenter_with = b""
        self.reentry_attempts += 1
        target: address = convert(convert(slice(payload, 0, 20), bytes20), address)
        self.reentry_succeeded = raw_call(target, slice(payload, 20, len(payload) - 20), revert_on_failure=False)

# pragma version ~=0.4.3
"""
@title Diva WithdrawalVault
@notice The withdrawal credentials (0x01‖0…‖this address) of every Diva validator. Beacon
        withdrawals (skimmed rewards and exits) arrive here as plain balance increases; the
        StakingPool pulls them during an oracle report. ETH leaves only towards the pool.
"""


interface IStakingPool:
    def receive_from_vault(): payable


event WithdrawnToPool:
    amount: uint256


POOL: public(immutable(address))


@deploy
def __init__(pool: address):
    assert pool != empty(address), "vault: pool is the zero address"
    POOL = pool


@external
@payable
def __default__():
    """@notice Accept ETH from anyone: execution-layer rewards and test top-ups."""
    pass


@external
def withdraw_to_pool(amount: uint256):
    """@notice Pool only: send `amount` to the pool (during its report)."""
    assert msg.sender == POOL, "vault: caller is not the pool"
    assert amount != 0, "vault: zero amount"
    assert amount <= self.balance, "vault: amount exceeds balance"
    extcall IStakingPool(POOL).receive_from_vault(value=amount)
    log WithdrawnToPool(amount=amount)

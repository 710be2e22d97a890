# pragma version ~=0.4.3
"""
@title Restaking sub-account of a distributor vault: one per operator
@notice The RestakingVault allows one delegation per address, so a distributor that spreads
        stake across several operators holds each position through one of these accounts,
        deployed as an EIP-1167 minimal proxy by the distributor and driven only by it.
"""

from ethereum.ercs import IERC20


interface IRestakingVault:
    def deposit(amount: uint256, operator: address) -> uint256: nonpayable
    def queue_withdrawal(amount_shares: uint256) -> uint256: nonpayable
    def complete_withdrawal(withdrawal_id: uint256) -> uint256: nonpayable


owner: public(address)
vault: public(IRestakingVault)
asset: public(IERC20)
operator: public(address)


@external
def initialize(vault: address, asset: address, operator: address):
    """@notice Bind the proxy to its distributor (the caller), once."""
    assert self.owner == empty(address), "already initialized"
    self.owner = msg.sender
    self.vault = IRestakingVault(vault)
    self.asset = IERC20(asset)
    self.operator = operator
    extcall IERC20(asset).approve(vault, max_value(uint256))


@internal
def _only_owner():
    assert msg.sender == self.owner, "not the distributor"


@external
def stake(amount: uint256):
    """@notice Restake `amount` wdivETH the distributor has sent to this account."""
    self._only_owner()
    extcall self.vault.deposit(amount, self.operator)


@external
def queue(amount_shares: uint256) -> uint256:
    """@notice Queue a withdrawal of `amount_shares` active shares; returns its id."""
    self._only_owner()
    return extcall self.vault.queue_withdrawal(amount_shares)


@external
def complete(withdrawal_id: uint256) -> uint256:
    """@notice Complete a matured withdrawal and forward its wdivETH to the distributor."""
    self._only_owner()
    paid: uint256 = extcall self.vault.complete_withdrawal(withdrawal_id)
    if paid > 0:
        extcall self.asset.transfer(self.owner, paid)
    return paid

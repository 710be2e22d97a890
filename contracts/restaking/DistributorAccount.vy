# pragma version ~=0.4.3
"""
@title Restaking sub-account of a distributor vault: one per operator
@notice The RestakingVault allows one delegation per address, so a distributor that spreads
        stake across several operators holds each position through one of these accounts,
        deployed as an EIP-1167 minimal proxy by the distributor and driven only by it.
        It is the restaker of its position, so it alone completes its withdrawals and claims
        the network rewards its shares earn, forwarding both to the distributor.
"""

from ethereum.ercs import IERC20


interface IRestakingVault:
    def deposit(amount: uint256, operator: address) -> uint256: nonpayable
    def queue_withdrawal(amount_shares: uint256) -> uint256: nonpayable
    def complete_withdrawal(withdrawal_id: uint256) -> uint256: nonpayable
    def claim(token: address, network: address, operator: address, gen: uint256) -> uint256: nonpayable
    def generation(network: address, operator: address) -> uint256: view


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


@external
def claim_rewards(token: address, network: address, gen: uint256) -> uint256:
    """
    @notice Claim this position's `token` rewards from `network` (opt-in generation `gen`,
            0: the current one) and forward them to the distributor; returns the amount.
    """
    self._only_owner()
    generation: uint256 = gen
    if generation == 0:
        generation = staticcall self.vault.generation(network, self.operator)
    paid: uint256 = extcall self.vault.claim(token, network, self.operator, generation)
    assert extcall IERC20(token).transfer(self.owner, paid, default_return_value=True), (
        "reward transfer failed"
    )
    return paid

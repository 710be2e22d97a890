# pragma version ~=0.4.3
"""
@title nETH: Nektar native restaked ETH
@notice 1 nETH stands for 1 ETH of beacon-chain balance (or ETH withdrawn from it) that the
        oracle reported for a NativePod's validators. Only pods created by the
        NativePodFactory mint (against their own validators' balances) and burn (what they
        pay out). Otherwise a plain ERC-20 + EIP-2612 (snekmate's erc20): the pods deposit it
        in the native RestakingVault, which slashes it like any restaked asset.
@dev snekmate's own mint/burn/minter surface is not exported: minting rights follow the
     factory's `is_pod`, not a minter list kept here. Its 25-character name field cannot hold
     the full name, so `name()` is this contract's constant.
"""

from ethereum.ercs import IERC20

implements: IERC20

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.allowance,
    erc20.decimals,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
)


interface INativePodFactory:
    def is_pod(account: address) -> bool: view


name: public(constant(String[32])) = "Nektar native restaked ETH"
symbol: public(constant(String[8])) = "nETH"

governance: public(address)
factory: public(address)


@deploy
def __init__():
    """@notice The deployer names the pod factory once (`set_factory`)."""
    ownable.__init__()
    erc20.__init__("Nektar native ETH", "nETH", 18, name, "1")
    self.governance = msg.sender


@external
def set_factory(factory: address):
    """@notice Governance, once: the NativePodFactory whose pods mint and burn."""
    assert msg.sender == self.governance, "nETH: caller is not governance"
    assert self.factory == empty(address), "nETH: factory already set"
    assert factory != empty(address), "nETH: zero address"
    self.factory = factory


@internal
@view
def _only_pod():
    factory: address = self.factory
    assert factory != empty(address), "nETH: no factory"
    assert staticcall INativePodFactory(factory).is_pod(msg.sender), "nETH: caller is not a pod"


@external
def mint(owner: address, amount: uint256):
    """@notice A pod mints against its validators' reported balance."""
    self._only_pod()
    erc20._mint(owner, amount)


@external
def burn(amount: uint256):
    """@notice A pod burns nETH it redeemed for ETH."""
    self._only_pod()
    erc20._burn(msg.sender, amount)

# pragma version ~=0.4.3
"""
@title wdivETH: Wrapped Diva Ether, an ERC-4626 vault over divETH
@notice One wdivETH is one divETH *share* (as wstETH is one stETH share), so its value
        grows with every positive rebase and the balance never changes by itself. The
        vault holds exactly totalSupply divETH shares and moves divETH only by shares, so:
        previews are exact (deposit/redeem round down, mint/withdraw round up, always in the
        vault's favour), round trips never profit, and the share price is divETH's rate,
        which the vault's own balance cannot move: a donation or "inflation attack" against
        the vault changes nothing.
@dev The ERC-20 + EIP-2612 ledger of wdivETH is snekmate's erc20 and the rounding
     arithmetic is snekmate's math. snekmate's erc4626 is not used because it prices shares
     by `asset.balanceOf(vault)` with virtual offsets and moves assets by amount; over a
     rebasing token that makes previews inexact by the 1-2 wei share rounding of each
     transfer (the stETH "1-2 wei" issue) and lets donations move the price.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626

implements: IERC4626

from snekmate.auth import ownable
from snekmate.tokens import erc20
from snekmate.utils import math

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.allowance,
    erc20.name,
    erc20.decimals,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
)


interface IDivEther:
    def getTotalPooledEther() -> uint256: view
    def getTotalShares() -> uint256: view
    def transferShares(receiver: address, shares: uint256) -> uint256: nonpayable
    def transferSharesFrom(sender: address, receiver: address, shares: uint256) -> uint256: nonpayable


symbol: public(constant(String[8])) = "wdivETH"
asset: public(immutable(address))
_DIVETH: immutable(IDivEther)


@deploy
def __init__(div_ether: address):
    assert div_ether != empty(address), "wdivETH: divETH is the zero address"
    asset = div_ether
    _DIVETH = IDivEther(div_ether)
    ownable.__init__()
    erc20.__init__("Wrapped Diva Ether", "wdETH", 18, "Wrapped Diva Ether", "1")


# ---------------------------------------------------------------- conversions


@internal
@view
def _rate() -> (uint256, uint256):
    """@return (total pooled ETH, total divETH shares): divETH's share rate."""
    return (staticcall _DIVETH.getTotalPooledEther(), staticcall _DIVETH.getTotalShares())


@internal
@view
def _to_shares(assets: uint256, round_up: bool) -> uint256:
    pooled: uint256 = 0
    shares: uint256 = 0
    pooled, shares = self._rate()
    if pooled == 0:
        return 0
    return math._mul_div(assets, shares, pooled, round_up)


@internal
@view
def _to_assets(shares: uint256, round_up: bool) -> uint256:
    pooled: uint256 = 0
    total: uint256 = 0
    pooled, total = self._rate()
    return math._mul_div(shares, pooled, total, round_up)


@external
@view
def totalAssets() -> uint256:
    return self._to_assets(erc20.totalSupply, False)


@external
@view
def convertToShares(assets: uint256) -> uint256:
    return self._to_shares(assets, False)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


@external
@view
def maxDeposit(receiver: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxMint(receiver: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    return self._to_assets(erc20.balanceOf[owner], False)


@external
@view
def maxRedeem(owner: address) -> uint256:
    return erc20.balanceOf[owner]


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    return self._to_shares(assets, False)


@external
@view
def previewMint(shares: uint256) -> uint256:
    return self._to_assets(shares, True)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    return self._to_shares(assets, True)


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


# ---------------------------------------------------------------- deposit / withdraw


@internal
def _enter(receiver: address, assets: uint256, shares: uint256):
    assert shares != 0, "wdivETH: zero shares"
    extcall _DIVETH.transferSharesFrom(msg.sender, self, shares)
    erc20._mint(receiver, shares)
    log IERC4626.Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)


@internal
def _exit(receiver: address, owner: address, assets: uint256, shares: uint256):
    assert shares != 0, "wdivETH: zero shares"
    assert receiver != empty(address), "wdivETH: receiver is the zero address"
    if msg.sender != owner:
        erc20._spend_allowance(owner, msg.sender, shares)
    erc20._burn(owner, shares)
    extcall _DIVETH.transferShares(receiver, shares)
    log IERC4626.Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)


@external
def deposit(assets: uint256, receiver: address = msg.sender) -> uint256:
    """@notice Wrap `assets` divETH (approved to this vault) into wdivETH for `receiver`."""
    assert assets != 0, "wdivETH: zero assets"
    shares: uint256 = self._to_shares(assets, False)
    self._enter(receiver, assets, shares)
    return shares


@external
def mint(shares: uint256, receiver: address = msg.sender) -> uint256:
    assert shares != 0, "wdivETH: zero shares"
    assets: uint256 = self._to_assets(shares, True)
    self._enter(receiver, assets, shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address = msg.sender, owner: address = msg.sender) -> uint256:
    assert assets != 0, "wdivETH: zero assets"
    shares: uint256 = self._to_shares(assets, True)
    self._exit(receiver, owner, assets, shares)
    return shares


@external
def redeem(shares: uint256, receiver: address = msg.sender, owner: address = msg.sender) -> uint256:
    assert shares != 0, "wdivETH: zero shares"
    assets: uint256 = self._to_assets(shares, False)
    self._exit(receiver, owner, assets, shares)
    return assets


# ---------------------------------------------------------------- wstETH-style aliases


@external
def wrap(div_eth_amount: uint256) -> uint256:
    """@notice wstETH.wrap: divETH in, wdivETH (shares) out to the caller."""
    assert div_eth_amount != 0, "wdivETH: zero assets"
    shares: uint256 = self._to_shares(div_eth_amount, False)
    self._enter(msg.sender, div_eth_amount, shares)
    return shares


@external
def unwrap(wdiv_eth_amount: uint256) -> uint256:
    """@notice wstETH.unwrap: wdivETH in, divETH out to the caller."""
    assert wdiv_eth_amount != 0, "wdivETH: zero shares"
    assets: uint256 = self._to_assets(wdiv_eth_amount, False)
    self._exit(msg.sender, msg.sender, assets, wdiv_eth_amount)
    return assets


@external
@view
def getWdivEthByDivEth(div_eth_amount: uint256) -> uint256:
    return self._to_shares(div_eth_amount, False)


@external
@view
def getDivEthByWdivEth(wdiv_eth_amount: uint256) -> uint256:
    return self._to_assets(wdiv_eth_amount, False)


@external
@view
def divEthPerToken() -> uint256:
    return self._to_assets(10**18, False)


@external
@view
def tokensPerDivEth() -> uint256:
    return self._to_shares(10**18, False)

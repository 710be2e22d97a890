# pragma version ~=0.4.3
"""A network's reward token on the devnet: snekmate's ERC-20; the deployer may mint."""

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
    erc20.mint,
    erc20.decimals,
    erc20.symbol,
)


@deploy
def __init__(name: String[25], symbol: String[5]):
    ownable.__init__()
    erc20.__init__(name, symbol, 18, name, "1")

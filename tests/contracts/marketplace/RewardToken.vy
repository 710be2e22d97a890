# pragma version ~=0.4.3
"""A network's reward token in tests: snekmate's full ERC-20 (the deployer may mint)."""

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
)


@deploy
def __init__(symbol: String[5]):
    ownable.__init__()
    erc20.__init__("Network reward", symbol, 18, "Network reward", "1")

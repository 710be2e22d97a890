# pragma version ~=0.4.3
"""
@title Factory of Nektar distributor vaults (LRTs) over wdivETH
@notice Anyone may create a distributor; its creator is its manager. Each distributor is
        deployed from a blueprint (the vault is too large for a proxy's savings to matter and
        its immutables differ per vault); its per-operator sub-accounts are minimal proxies of
        one DistributorAccount implementation.
"""

MAX_OPERATORS: constant(uint256) = 16


event DistributorCreated:
    distributor: indexed(address)
    manager: indexed(address)
    transferable: bool


ASSET: public(immutable(address))
RESTAKING_VAULT: public(immutable(address))
BLUEPRINT: public(immutable(address))
ACCOUNT_IMPL: public(immutable(address))

distributors: public(HashMap[uint256, address])
distributor_count: public(uint256)
is_distributor: public(HashMap[address, bool])


@deploy
def __init__(asset: address, restaking_vault: address, blueprint: address, account_impl: address):
    assert asset != empty(address) and restaking_vault != empty(address), "zero address"
    assert blueprint != empty(address) and account_impl != empty(address), "zero address"
    ASSET = asset
    RESTAKING_VAULT = restaking_vault
    BLUEPRINT = blueprint
    ACCOUNT_IMPL = account_impl


@external
def create_distributor(
    operators: DynArray[address, MAX_OPERATORS],
    weights: DynArray[uint256, MAX_OPERATORS],
    fee_bps: uint256,
    transferable: bool,
    name: String[25],
    symbol: String[5],
) -> address:
    """@notice Create a distributor managed by the caller; returns its address."""
    distributor: address = create_from_blueprint(
        BLUEPRINT,
        ASSET,
        RESTAKING_VAULT,
        ACCOUNT_IMPL,
        msg.sender,
        operators,
        weights,
        fee_bps,
        transferable,
        name,
        symbol,
    )
    n: uint256 = self.distributor_count
    self.distributors[n] = distributor
    self.distributor_count = n + 1
    self.is_distributor[distributor] = True
    log DistributorCreated(distributor=distributor, manager=msg.sender, transferable=transferable)
    return distributor

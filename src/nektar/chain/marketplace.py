"""Typed access to the Nektar marketplace (NetworkRegistry) and deployment of the upper layer.

- `Terms`: a network's published terms (the contract's struct, field for field).
- `NetworkRegistry`: networks, opt-in/out, allocations, `stake_at`, slash request → veto →
  execute, equivocation proofs with real BLS signatures, reward epochs.
- `deploy_upper_layer(system, ...)`: RestakingVault + NetworkRegistry on top of a deployed
  Diva system (`nektar.chain.diva_ops.deploy_diva_system`), wired together; optionally a
  second RestakingVault over native restaked ETH (nETH) added as vault 1.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.diva_ops import DivaSystem
from nektar.chain.restaking import RestakingVault, g1_uncompressed, g2_uncompressed
from nektar.chain.types import Receipt

WAD = 10**18
DAY = 86_400


@dataclass(frozen=True)
class Terms:
    """What a network promises and demands (fractions are WAD: 10**18 = 100%)."""

    accepted_assets: tuple[str, ...]
    min_stake: int
    max_operators: int
    max_slash: int
    unbonding: int
    veto_window: int
    slasher: str
    resolver: str
    slash_to_network: bool
    metadata_uri: str

    def as_tuple(self) -> tuple:
        values = astuple(self)
        return (list(values[0]), *values[1:])


class NetworkRegistry:
    """The marketplace contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address

    def add_vault(self, governance: LocalAccount, vault: str, priced_by_4626: bool) -> Receipt:
        """Let networks accept `vault`'s asset (the vault must already point at this registry);
        its stake is valued in ETH by the asset's ERC-4626 `convertToAssets`, or 1:1."""
        return self.contract.transact("add_vault", vault, priced_by_4626, sender=governance)

    def vaults(self) -> list[str]:
        """Every RestakingVault, by index (0: the constructor's wdivETH vault)."""
        count = self.contract.call("vault_count")
        return [to_checksum_address(self.contract.call("vaults", i)) for i in range(count)]

    def network_vaults(self, network: str) -> list[int]:
        """Indexes of the vaults whose assets `network` accepts."""
        mask = self.contract.call("network_vaults", network)
        return [i for i in range(mask.bit_length()) if mask >> i & 1]

    def reservation(self, request_id: int, index: int) -> tuple[int, int, int]:
        """(from_active, from_queue, generation) a slash request reserved in vault `index`."""
        return tuple(self.contract.call("reservation", request_id, index))

    def register_network(self, network: LocalAccount, terms: Terms, reward_token: str) -> Receipt:
        return self.contract.transact(
            "register_network", terms.as_tuple(), reward_token, sender=network
        )

    def propose_terms(self, network: LocalAccount, terms: Terms) -> Receipt:
        return self.contract.transact("propose_terms", terms.as_tuple(), sender=network)

    def apply_terms(self, caller: LocalAccount, network: str) -> Receipt:
        return self.contract.transact("apply_terms", network, sender=caller)

    def terms(self, network: str) -> Terms:
        assets, *rest = self.contract.call("terms", network)
        rest[5], rest[6] = to_checksum_address(rest[5]), to_checksum_address(rest[6])
        return Terms(tuple(to_checksum_address(a) for a in assets), *rest)

    def opt_in(self, operator: LocalAccount, network: str) -> Receipt:
        return self.contract.transact("opt_in", network, sender=operator)

    def request_opt_out(self, operator: LocalAccount, network: str) -> Receipt:
        return self.contract.transact("request_opt_out", network, sender=operator)

    def opt_out(self, operator: LocalAccount, network: str) -> Receipt:
        return self.contract.transact("opt_out", network, sender=operator)

    def allocate(self, operator: LocalAccount, network: str, fraction: int) -> Receipt:
        return self.contract.transact("allocate", network, fraction, sender=operator)

    def allocation(self, network: str, operator: str) -> int:
        return self.contract.call("allocation", network, operator)

    def stake_at(self, network: str, operator: str, timestamp: int) -> int:
        return self.contract.call("stake_at", network, operator, timestamp)

    def register_bls_key(self, network: LocalAccount, operator: str, pubkey: bytes) -> Receipt:
        """Bind `operator`'s 48-byte BLS public key for the network's tasks."""
        return self.contract.transact(
            "register_bls_key", operator, g1_uncompressed(pubkey), sender=network
        )

    def request_slash(
        self, slasher: LocalAccount, operator: str, fraction: int, evidence_hash: bytes
    ) -> int:
        """Returns the request id."""
        receipt = self.contract.transact(
            "request_slash", operator, fraction, evidence_hash, sender=slasher
        )
        return receipt.event("SlashRequested")["request_id"]

    def veto_slash(self, resolver: LocalAccount, request_id: int) -> Receipt:
        return self.contract.transact("veto_slash", request_id, sender=resolver)

    def execute_slash(self, caller: LocalAccount, request_id: int) -> Receipt:
        return self.contract.transact("execute_slash", request_id, sender=caller)

    def slash_equivocation(
        self,
        caller: LocalAccount,
        network: str,
        operator: str,
        message_a: bytes,
        signature_a: bytes,
        message_b: bytes,
        signature_b: bytes,
    ) -> Receipt:
        """Prove two 96-byte BLS signatures on conflicting messages of one task."""
        return self.contract.transact(
            "slash_equivocation",
            network,
            operator,
            message_a,
            g2_uncompressed(signature_a),
            message_b,
            g2_uncompressed(signature_b),
            sender=caller,
        )

    def fund_epoch(self, network: LocalAccount, amount: int) -> Receipt:
        """Pay one epoch (the reward token must be approved to this contract)."""
        return self.contract.transact("fund_epoch", amount, sender=network)

    def operators_of(self, network: str) -> list[str]:
        return list(self.contract.call("operators_of", network))


@dataclass
class UpperLayer:
    """Restaking and marketplace contracts of one deployment."""

    vault: RestakingVault
    registry: NetworkRegistry
    native_vault: RestakingVault | None = None


def deploy_upper_layer(
    system: DivaSystem,
    admin: LocalAccount | None = None,
    min_withdrawal_delay: int = 7 * DAY,
    allocation_delay: int = DAY,
    terms_delay: int = 3 * DAY,
    native_asset: str | None = None,
) -> UpperLayer:
    """Deploy RestakingVault (over wdivETH, operators of the OperatorRegistry) and
    NetworkRegistry, and let the registry reserve and apply slashes in the vault. With
    `native_asset` (the pods' nETH), a second RestakingVault over it becomes vault 1 (1:1)."""
    backend = system.backend
    admin = admin or backend.accounts[0]

    def restaking_vault(asset: str) -> Contract:
        return backend.deploy(
            compile_contract("restaking/RestakingVault.vy"),
            asset,
            system.operators.address,
            min_withdrawal_delay,
            sender=admin,
        )

    vault = restaking_vault(system.lst.wrapper.address)
    registry = backend.deploy(
        compile_contract("marketplace/NetworkRegistry.vy"),
        system.operators.address,
        vault.address,
        allocation_delay,
        terms_delay,
        sender=admin,
    )
    vault.transact("set_network_registry", registry.address, sender=admin)
    upper = UpperLayer(RestakingVault(vault), NetworkRegistry(registry))
    if native_asset is not None:
        native = restaking_vault(native_asset)
        native.transact("set_network_registry", registry.address, sender=admin)
        upper.registry.add_vault(admin, native.address, priced_by_4626=False)
        upper.native_vault = RestakingVault(native)
    return upper

"""Typed access to native restaking (docs/restaking-marketplace.md, "Native restaking").

- `deploy_native_restaking(system, ...)`: nETH, a second RestakingVault over nETH (the same
  contract as the wdivETH vault), the NativePod implementation and the NativePodFactory, wired
  to a deployed Diva system (`nektar.chain.diva_ops.deploy_diva_system`): the
  ValidatorRegistry accepts the factory's pods and nETH lets only them mint and burn.
- `NativeRestaking`: the deployment; `create_pod` / `pod_of` give `NativePod` wrappers.
- `NativePod`: stake, delegate, request_exit, queue/complete withdrawals, claim network
  rewards, views.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.diva_ops import DivaSystem
from nektar.chain.errors import ChainError
from nektar.chain.marketplace import DAY, NetworkRegistry, UpperLayer, deploy_upper_layer
from nektar.chain.restaking import BURN_ADDRESS, RestakingVault
from nektar.chain.types import Receipt

VALIDATOR_ETHER = 32 * 10**18
ZERO_ADDRESS = "0x" + "00" * 20


class NativePod:
    """One restaker's pod (an EIP-1167 proxy of contracts/restaking/NativePod.vy)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address

    def stake(self, owner: LocalAccount, validators: int = 1) -> list[int]:
        """Pay 32 ETH per validator (1 to 8); returns the proposed validator ids."""
        receipt = self.contract.transact("stake", sender=owner, value=validators * VALIDATOR_ETHER)
        return [int(i) for i in receipt.event("Staked")["validator_ids"]]

    def delegate(self, owner: LocalAccount, operator: str) -> int:
        """Restake with `operator`; when changing operator, the id of the withdrawal that
        redelegation queued (0 if none)."""
        receipt = self.contract.transact("delegate", operator, sender=owner)
        return int(receipt.event("PodDelegated")["withdrawal_id"])

    def restake(self, owner: LocalAccount) -> Receipt:
        return self.contract.transact("restake", sender=owner)

    def request_exit(self, owner: LocalAccount, validator_id: int) -> Receipt:
        return self.contract.transact("request_exit", validator_id, sender=owner)

    def queue_withdrawal(self, owner: LocalAccount, shares: int) -> int:
        """Queue vault shares; returns the vault's withdrawal id."""
        receipt = self.contract.transact("queue_withdrawal", shares, sender=owner)
        return int(receipt.event("PodWithdrawalQueued")["withdrawal_id"])

    def complete_withdrawal(self, owner: LocalAccount, withdrawal_id: int) -> int:
        """Complete after the vault's delay; returns the ETH paid to the owner."""
        receipt = self.contract.transact("complete_withdrawal", withdrawal_id, sender=owner)
        return int(receipt.event("PodWithdrawalCompleted")["paid"])

    def claim_rewards(
        self,
        owner: LocalAccount,
        token: str,
        network: str,
        generation: int,
        operator: str | None = None,
    ) -> int:
        """Claim the network rewards of the pod's native-vault position (the pod is the
        restaker there) and pay them to the owner; `operator` defaults to the current one.
        Returns the amount of `token` paid."""
        args = (
            (token, network, generation)
            if operator is None
            else (token, network, generation, operator)
        )
        receipt = self.contract.transact("claim_rewards", *args, sender=owner)
        return int(receipt.event("PodRewardsClaimed")["amount"])

    def claim_refund(self, owner: LocalAccount) -> Receipt:
        return self.contract.transact("claim_refund", sender=owner)

    def sweep_slashed(self, caller: LocalAccount) -> Receipt:
        return self.contract.transact("sweep_slashed", sender=caller)

    def owner(self) -> str:
        return str(self.contract.call("owner"))

    def operator(self) -> str | None:
        operator = str(self.contract.call("operator"))
        return None if int(operator, 16) == 0 else operator

    def restaked_balance(self) -> int:
        """nETH the pod's active vault shares are worth now."""
        return int(self.contract.call("restaked_balance"))

    def validators(self) -> list[int]:
        return [int(i) for i in self.contract.call("validators")]

    def withdrawable_ether(self) -> int:
        """ETH withdrawn from the beacon chain (and reported) that can pay withdrawals."""
        return int(self.contract.call("withdrawable_ether"))

    def deficit(self) -> int:
        return int(self.contract.call("deficit"))

    def refundable(self) -> int:
        return int(self.contract.call("refundable"))


@dataclass
class NativeRestaking:
    """nETH, its RestakingVault and the pod factory of one deployment."""

    backend: Backend
    factory: Contract
    native_ether: Contract
    vault: RestakingVault
    upper: UpperLayer | None  # deployed with it, or None: the caller's marketplace

    @property
    def network_registry(self) -> NetworkRegistry | None:
        return None if self.upper is None else self.upper.registry

    def create_pod(self, owner: LocalAccount) -> NativePod:
        receipt = self.factory.transact("create_pod", sender=owner)
        return self._pod(receipt.event("PodCreated")["pod"])

    def pod_of(self, owner: str) -> NativePod | None:
        address = str(self.factory.call("pod_of", owner))
        return None if int(address, 16) == 0 else self._pod(address)

    def _pod(self, address: str) -> NativePod:
        return NativePod(self.backend.at(compile_contract("restaking/NativePod.vy"), address))

    def neth_balance(self, account: str) -> int:
        return int(self.native_ether.call("balanceOf", account))


def deploy_native_restaking(
    system: DivaSystem,
    admin: LocalAccount | None = None,
    network_registry: str | None = None,
    min_withdrawal_delay: int = 7 * DAY,
    slash_sink: str = BURN_ADDRESS,
    allocation_delay: int = DAY,
    terms_delay: int = 3 * DAY,
) -> NativeRestaking:
    """Deploy nETH, the native RestakingVault (asset nETH, operators of `system`), the
    NativePod implementation and the NativePodFactory, and wire them. `admin` must be the
    ValidatorRegistry's governance (the account that deployed `system`).

    The vault asks a NetworkRegistry for unbonding periods and slashes: give the marketplace's
    (`network_registry`; its governance then adds this vault with `add_vault(vault, False)`,
    nETH being valued 1:1), or None to deploy the upper layer with the native vault as its
    vault 1 (`deploy_upper_layer(..., native_asset=nETH)`).
    """
    backend = system.backend
    admin = admin or backend.accounts[0]

    def deploy(name: str, *args: object) -> Contract:
        return backend.deploy(compile_contract(name), *args, sender=admin)

    neth = deploy("restaking/NativeEther.vy")
    upper: UpperLayer | None = None
    if network_registry is None:
        upper = deploy_upper_layer(
            system, admin, min_withdrawal_delay, allocation_delay, terms_delay, neth.address
        )
        if upper.native_vault is None:
            raise ChainError("deploy_upper_layer did not deploy the native vault")
        vault = upper.native_vault
    else:
        vault = RestakingVault(
            deploy(
                "restaking/RestakingVault.vy",
                neth.address,
                system.operators.address,
                min_withdrawal_delay,
            )
        )
        vault.contract.transact("set_network_registry", network_registry, sender=admin)
    implementation = deploy("restaking/NativePod.vy")
    factory = deploy(
        "restaking/NativePodFactory.vy",
        system.validators.address,
        neth.address,
        vault.address,
        implementation.address,
        slash_sink,
    )
    neth.transact("set_factory", factory.address, sender=admin)
    system.validators.contract.transact("set_pod_factory", factory.address, sender=admin)
    return NativeRestaking(backend, factory, neth, vault, upper)

"""Typed access to the Nektar RestakingVault (docs/restaking-marketplace.md), on any backend.

- `RestakingVault`: deposit + delegate, queue/complete withdrawals (the restaker only),
  (re/un)delegation, the pools' views, reward claims.
- `Distributor` / `DistributorFactory` / `deploy_distributor_factory`: distributor vaults (LRTs)
  spreading wdivETH over operators, queued redeems, network rewards harvested into the vault and
  claimed per holder.
- `g1_uncompressed` / `g2_uncompressed`: the crypto core's compressed BLS points (48-byte
  public keys, 96-byte signatures) in the uncompressed EIP-2537 encoding the contracts take
  (every base-field element in 64 bytes: 16 zero bytes then 48 big-endian bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2
from py_ecc.optimized_bls12_381 import is_inf, normalize

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.errors import ChainError
from nektar.chain.types import Receipt
from nektar.crypto.bls import BLSError

BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"


def _fp(value: int) -> bytes:
    return int(value).to_bytes(64, "big")


def g1_uncompressed(pubkey: bytes) -> bytes:
    """A 48-byte compressed G1 public key as EIP-2537's 128-byte x‖y (validated, not ∞)."""
    try:
        point = pubkey_to_G1(pubkey)
    except (ValueError, AssertionError) as exc:
        raise BLSError(f"public key is not a valid G1 point: {exc}") from None
    if is_inf(point):
        raise BLSError("public key is the point at infinity")
    x, y = normalize(point)
    return _fp(x) + _fp(y)


def g2_uncompressed(signature: bytes) -> bytes:
    """A 96-byte compressed G2 signature as EIP-2537's 256-byte x.c0‖x.c1‖y.c0‖y.c1."""
    try:
        point = signature_to_G2(signature)
    except (ValueError, AssertionError) as exc:
        raise BLSError(f"signature is not a valid G2 point: {exc}") from None
    if is_inf(point):
        return b"\x00" * 256
    x, y = normalize(point)
    return _fp(x.coeffs[0]) + _fp(x.coeffs[1]) + _fp(y.coeffs[0]) + _fp(y.coeffs[1])


def reward_key(token: str, network: str, operator: str, generation: int) -> bytes:
    """The accumulator id the vault uses for one opt-in of `operator` to `network`."""
    return keccak(
        abi_encode(
            ["address", "address", "address", "uint256"], [token, network, operator, generation]
        )
    )


@dataclass(frozen=True)
class Pool:
    """An operator's share pool: assets (wdivETH), shares, assets reserved by pending slashes."""

    assets: int
    shares: int
    reserved: int


@dataclass(frozen=True)
class Withdrawal:
    restaker: str
    operator: str
    generation: int
    shares: int
    completable_at: int


class RestakingVault:
    """LST restaking over wdivETH with per-operator share pools (slashing is O(1))."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address

    def deposit(self, restaker: LocalAccount, amount: int, operator: str) -> Receipt:
        """Deposit approved wdivETH and delegate to `operator` (on first use)."""
        return self.contract.transact("deposit", amount, operator, sender=restaker)

    def queue_withdrawal(self, restaker: LocalAccount, shares: int) -> Receipt:
        return self.contract.transact("queue_withdrawal", shares, sender=restaker)

    def complete_withdrawal(self, restaker: LocalAccount, withdrawal_id: int) -> Receipt:
        """Pay a matured withdrawal; only its restaker may (else "caller is not the restaker")."""
        return self.contract.transact("complete_withdrawal", withdrawal_id, sender=restaker)

    def undelegate(self, restaker: LocalAccount) -> Receipt:
        return self.contract.transact("undelegate", sender=restaker)

    def redelegate(self, restaker: LocalAccount, operator: str) -> Receipt:
        return self.contract.transact("redelegate", operator, sender=restaker)

    def set_commission(self, operator: LocalAccount, bps: int) -> Receipt:
        return self.contract.transact("set_commission", bps, sender=operator)

    def claim(
        self, restaker: LocalAccount, token: str, network: str, operator: str, generation: int
    ) -> Receipt:
        return self.contract.transact(
            "claim", token, network, operator, generation, sender=restaker
        )

    def claim_commission(self, operator: LocalAccount, token: str) -> Receipt:
        return self.contract.transact("claim_commission", token, sender=operator)

    def claimable(self, token: str, network: str, operator: str, generation: int, who: str) -> int:
        key = reward_key(token, network, operator, generation)
        return self.contract.call("claimable", key, who, operator)

    def generation(self, network: str, operator: str) -> int:
        return self.contract.call("generation", network, operator)

    def shares(self, restaker: str) -> int:
        return self.contract.call("shares", restaker)

    def value_of(self, restaker: str) -> int:
        return self.contract.call("value_of", restaker)

    def delegated_to(self, restaker: str) -> str:
        return self.contract.call("delegated_to", restaker)

    def stake(self, operator: str) -> int:
        return self.contract.call("stake", operator)

    def stake_at(self, operator: str, timestamp: int) -> int:
        return self.contract.call("stake_at", operator, timestamp)

    def active_pool(self, operator: str) -> Pool:
        return Pool(*self.contract.call("active_pool", operator))

    def withdrawal(self, withdrawal_id: int) -> Withdrawal:
        return Withdrawal(*self.contract.call("withdrawal", withdrawal_id))

    def withdrawal_value(self, withdrawal_id: int) -> int:
        return self.contract.call("withdrawal_value", withdrawal_id)

    @staticmethod
    def withdrawal_id(receipt: Receipt) -> int:
        return receipt.event("WithdrawalQueued")["withdrawal_id"]


# ------------------------------------------------------------------ distributor vaults (LRTs)


class Distributor:
    """An ERC-4626 distributor vault over wdivETH (contracts/restaking/Distributor.vy):
    deposits restaked across operators by weight, queued redeems, manager controls, network
    rewards harvested by anyone and claimed per holder."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._vault: RestakingVault | None = None

    @property
    def address(self) -> str:
        return self.contract.address

    def deposit(self, holder: LocalAccount, assets: int) -> Receipt:
        """Deposit approved wdivETH (the deposit fee included) for receipts to `holder`."""
        return self.contract.transact("deposit", assets, holder.address, sender=holder)

    def request_redeem(self, holder: LocalAccount, shares: int) -> int:
        """Burn `shares` and queue the holder's slice of every position; returns the id."""
        receipt = self.contract.transact("request_redeem", shares, sender=holder)
        return receipt.event("RedeemRequested")["request_id"]

    def complete_redeem(self, caller: LocalAccount, request_id: int) -> Receipt:
        return self.contract.transact("complete_redeem", request_id, sender=caller)

    def set_weights(self, manager: LocalAccount, weights: list[int]) -> Receipt:
        return self.contract.transact("set_weights", weights, sender=manager)

    def rebalance(self, manager: LocalAccount) -> Receipt:
        return self.contract.transact("rebalance", sender=manager)

    def finish_rebalance(self, caller: LocalAccount) -> Receipt:
        return self.contract.transact("finish_rebalance", sender=caller)

    def add_reward_token(self, manager: LocalAccount, token: str) -> Receipt:
        """Register a network's reward token (manager only, at most 4, for good)."""
        return self.contract.transact("add_reward_token", token, sender=manager)

    def reward_tokens(self) -> list[str]:
        count = self.contract.call("reward_token_count")
        return [self.contract.call("reward_tokens", i) for i in range(count)]

    def harvest(
        self,
        caller: LocalAccount,
        token: str,
        network: str,
        operator_index: int,
        generation: int = 0,
    ) -> int:
        """Claim what `network` paid the `operator_index`-th position in `token` (opt-in
        `generation`, 0: the current one) into the vault for its holders; returns the amount
        (the manager's fee included). Reverts "nothing to claim" if there is none."""
        receipt = self.contract.transact(
            "harvest", token, network, operator_index, generation, sender=caller
        )
        return receipt.event("Harvested")["amount"]

    def pending_harvest(
        self, token: str, network: str, operator_index: int, generation: int = 0
    ) -> int:
        """What `harvest` would bring in now for one position (read from the RestakingVault)."""
        vault = self.restaking_vault()
        operator = self.operators()[operator_index]
        generation = generation or vault.generation(network, operator)
        return vault.claimable(token, network, operator, generation, self.account(operator_index))

    def harvest_all(self, caller: LocalAccount, network: str) -> int:
        """Harvest every registered token `network` owes any position (current opt-ins only);
        returns the total harvested. Call it before a redeem request to keep what accrued."""
        total = 0
        count = self.contract.call("operator_count")
        for token in self.reward_tokens():
            for index in range(count):
                if self.pending_harvest(token, network, index) > 0:
                    total += self.harvest(caller, token, network, index)
        return total

    def claim_rewards(self, holder: LocalAccount, token: str) -> int:
        """Pay `holder` its harvested `token` rewards; returns the amount."""
        receipt = self.contract.transact("claim_rewards", token, sender=holder)
        return receipt.event("RewardsClaimed")["amount"]

    def claimable_rewards(self, token: str, holder: str) -> int:
        return self.contract.call("claimable_rewards", token, holder)

    def restaking_vault(self) -> RestakingVault:
        if self._vault is None:
            address = self.contract.call("restaking_vault")
            backend = self.contract.backend
            self._vault = RestakingVault(
                backend.at(compile_contract("restaking/RestakingVault.vy"), address)
            )
        return self._vault

    def operators(self) -> list[str]:
        count = self.contract.call("operator_count")
        return [self.contract.call("operators", i) for i in range(count)]

    def weights(self) -> list[int]:
        """Target weights in basis points, one per operator."""
        count = self.contract.call("operator_count")
        return [self.contract.call("weights", i) for i in range(count)]

    def positions(self) -> list[int]:
        """wdivETH restaked with each operator now (the RestakingVault's value of each
        sub-account), in operator order."""
        vault = self.restaking_vault()
        count = self.contract.call("operator_count")
        return [vault.value_of(self.account(i)) for i in range(count)]

    def total_assets(self) -> int:
        return self.contract.call("totalAssets")

    def balance_of(self, holder: str) -> int:
        return self.contract.call("balanceOf", holder)

    def request_value(self, request_id: int) -> int:
        return self.contract.call("request_value", request_id)

    def account(self, index: int) -> str:
        """The sub-account restaking with the `index`-th operator."""
        return self.contract.call("accounts", index)


class DistributorFactory:
    """Creates distributor vaults; the creator is the manager."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    def create(
        self,
        manager: LocalAccount,
        operators: list[str],
        weights: list[int],
        fee_bps: int = 0,
        transferable: bool = True,
        name: str = "Nektar LRT",
        symbol: str = "nLRT",
    ) -> Distributor:
        receipt = self.contract.transact(
            "create_distributor",
            operators,
            weights,
            fee_bps,
            transferable,
            name,
            symbol,
            sender=manager,
        )
        address = receipt.event("DistributorCreated")["distributor"]
        backend = self.contract.backend
        return Distributor(backend.at(compile_contract("restaking/Distributor.vy"), address))


def _blueprint_initcode(bytecode: bytes) -> bytes:
    """ERC-5202 blueprint (0xFE71 00 + initcode) behind Vyper's 10-byte deploy preamble."""
    blueprint = b"\xfe\x71\x00" + bytecode
    size = len(blueprint).to_bytes(2, "big")
    return b"\x61" + size + b"\x3d\x81\x60\x0a\x3d\x39\xf3" + blueprint


def deploy_distributor_factory(
    backend: Backend, vault: RestakingVault, asset: str, admin: LocalAccount | None = None
) -> DistributorFactory:
    """Deploy the Distributor blueprint, the sub-account implementation and the factory over
    `vault` (a deployed RestakingVault) and `asset` (its wdivETH)."""
    admin = admin or backend.accounts[0]
    code = compile_contract("restaking/Distributor.vy").bytecode
    receipt = backend.transact_raw(
        admin, None, _blueprint_initcode(code), 0, "deploy Distributor blueprint"
    )
    if receipt.contract_address is None:
        raise ChainError("deploying the Distributor blueprint created no contract")
    account_impl = backend.deploy(compile_contract("restaking/DistributorAccount.vy"), sender=admin)
    factory = backend.deploy(
        compile_contract("restaking/DistributorFactory.vy"),
        asset,
        vault.address,
        receipt.contract_address,
        account_impl.address,
        sender=admin,
    )
    return DistributorFactory(factory)

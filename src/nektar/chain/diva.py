"""Typed access to the Diva liquid-staking contracts (docs/diva-lst.md), on any backend.

`deploy_diva_lst` performs the documented deploy order and wiring; the wrapper classes name
each contract's operations so that callers (devnet, CLI, oracle) never spell ABI strings.
Amounts are wei (ETH) or the token's 18-decimal base units.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.types import Receipt

ROLES = ("PAUSE_ROLE", "RESUME_ROLE", "STAKING_CONTROL_ROLE", "DEPOSITOR_ROLE", "ORACLE_ROLE")
DEAD_SHARES = 1000  # divETH's dead shares, backed 1:1 by the pool's initial deposit


def role_id(name: str) -> bytes:
    """Role ids are keccak256 of the role's name (snekmate access_control)."""
    if name not in ROLES:
        raise ValueError(f"unknown role {name!r}; roles are {', '.join(ROLES)}")
    return keccak(text=name)


class _Bound:
    """A wrapper over one deployed contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address


class StakingPool(_Bound):
    """Deposits, buffer, validator funding and oracle reports."""

    def deposit(self, staker: LocalAccount, amount: int) -> Receipt:
        return self.contract.transact("deposit", sender=staker, value=amount)

    def total_pooled_ether(self) -> int:
        return int(self.contract.call("total_pooled_ether"))

    def buffered_ether(self) -> int:
        return int(self.contract.call("buffered_ether"))

    def in_transit_ether(self) -> int:
        return int(self.contract.call("in_transit_ether"))

    def beacon_balance(self) -> int:
        return int(self.contract.call("beacon_balance"))

    def beacon_deposited_ether(self) -> int:
        return int(self.contract.call("beacon_deposited_ether"))

    def withdraw_for_deposit(self, depositor: LocalAccount, amount: int) -> Receipt:
        """DEPOSITOR_ROLE takes `amount` from the buffer to fund validators."""
        return self.contract.transact("withdraw_for_deposit", amount, sender=depositor)

    def report(
        self,
        oracle: LocalAccount,
        beacon_balance: int,
        beacon_validators: int,
        beacon_deposited: int,
        vault_withdrawn: int = 0,
    ) -> Receipt:
        """ORACLE_ROLE reports the beacon chain; rebases and finalizes withdrawals."""
        return self.contract.transact(
            "report",
            beacon_balance,
            beacon_validators,
            beacon_deposited,
            vault_withdrawn,
            sender=oracle,
        )

    def receive_donation(self, sender: LocalAccount, amount: int) -> Receipt:
        return self.contract.transact("receive_donation", sender=sender, value=amount)

    def grant_role(self, admin: LocalAccount, role: str, account: str) -> Receipt:
        return self.contract.transact("grantRole", role_id(role), account, sender=admin)

    def has_role(self, role: str, account: str) -> bool:
        return bool(self.contract.call("hasRole", role_id(role), account))

    def pause_staking(self, pauser: LocalAccount) -> Receipt:
        return self.contract.transact("pause_staking", sender=pauser)

    def resume_staking(self, resumer: LocalAccount) -> Receipt:
        return self.contract.transact("resume_staking", sender=resumer)

    def set_staking_limit(
        self, controller: LocalAccount, max_limit: int, increase_per_block: int
    ) -> Receipt:
        return self.contract.transact(
            "set_staking_limit", max_limit, increase_per_block, sender=controller
        )


class DivEther(_Bound):
    """divETH: rebasing balances over shares."""

    def balance_of(self, account: str) -> int:
        return int(self.contract.call("balanceOf", account))

    def shares_of(self, account: str) -> int:
        return int(self.contract.call("sharesOf", account))

    def total_supply(self) -> int:
        return int(self.contract.call("totalSupply"))

    def total_shares(self) -> int:
        return int(self.contract.call("getTotalShares"))

    def pooled_eth_by_shares(self, shares: int) -> int:
        return int(self.contract.call("getPooledEthByShares", shares))

    def approve(self, owner: LocalAccount, spender: str, amount: int) -> Receipt:
        return self.contract.transact("approve", spender, amount, sender=owner)

    def transfer(self, sender: LocalAccount, receiver: str, amount: int) -> Receipt:
        return self.contract.transact("transfer", receiver, amount, sender=sender)


class WrappedDivEther(_Bound):
    """wdivETH: non-rebasing ERC-4626 over divETH (one wdivETH = one divETH share)."""

    def wrap(self, owner: LocalAccount, div_eth_amount: int) -> Receipt:
        return self.contract.transact("wrap", div_eth_amount, sender=owner)

    def unwrap(self, owner: LocalAccount, wdiv_eth_amount: int) -> Receipt:
        return self.contract.transact("unwrap", wdiv_eth_amount, sender=owner)

    def balance_of(self, account: str) -> int:
        return int(self.contract.call("balanceOf", account))

    def div_eth_per_token(self) -> int:
        return int(self.contract.call("divEthPerToken"))


@dataclass(frozen=True)
class WithdrawalRequest:
    """A queue entry: `ether` is the requested divETH until finalized, then the ETH to claim."""

    request_id: int
    owner: str
    shares: int
    ether: int
    finalized: bool
    claimed: bool


class WithdrawalQueue(_Bound):
    """Withdrawal requests (ERC-721), finalized by oracle reports, claimed by their owners."""

    def request_withdrawals(self, owner: LocalAccount, amounts: list[int]) -> Receipt:
        """Lock divETH for each amount; `request_ids(receipt)` gives the new requests."""
        return self.contract.transact("request_withdrawals", amounts, sender=owner)

    @staticmethod
    def request_ids(receipt: Receipt) -> list[int]:
        return [int(e["request_id"]) for e in receipt.events_named("WithdrawalRequested")]

    def claim(self, owner: LocalAccount, request_id: int) -> Receipt:
        return self.contract.transact("claim_withdrawal", request_id, sender=owner)

    def request(self, request_id: int) -> WithdrawalRequest:
        owner, shares, ether, finalized, claimed = self.contract.call("get_request", request_id)
        return WithdrawalRequest(request_id, owner, shares, ether, finalized, claimed)

    def last_finalized_id(self) -> int:
        return int(self.contract.call("last_finalized_id"))

    def locked_ether(self) -> int:
        return int(self.contract.call("locked_ether"))

    def unfinalized_ether(self) -> int:
        return int(self.contract.call("unfinalized_ether"))


class WithdrawalVault(_Bound):
    """The validators' withdrawal address; only the pool can take ETH out."""


@dataclass
class DivaLst:
    """The wired liquid-staking system on one backend."""

    backend: Backend
    admin: LocalAccount
    pool: StakingPool
    token: DivEther
    queue: WithdrawalQueue
    vault: WithdrawalVault
    wrapper: WrappedDivEther

    def rate(self) -> Fraction:
        """ETH per divETH share: total pooled ETH ÷ total shares."""
        return Fraction(self.pool.total_pooled_ether(), self.token.total_shares())

    def withdrawal_credentials(self) -> bytes:
        """0x01 credentials pointing at the WithdrawalVault, for every protocol validator."""
        return b"\x01" + b"\x00" * 11 + bytes.fromhex(self.vault.address[2:])


def deploy_diva_lst(backend: Backend, admin: LocalAccount | None = None) -> DivaLst:
    """Deploy and wire the system in the order docs/diva-lst.md gives; `admin` (default: the
    backend's first account) holds DEFAULT_ADMIN_ROLE and grants the other roles."""
    admin = admin or backend.accounts[0]

    def deploy(name: str, *args: object) -> Contract:
        return backend.deploy(compile_contract(f"diva/{name}.vy"), *args, sender=admin)

    pool = deploy("StakingPool")
    token = deploy("DivEther", pool.address)
    queue = deploy("WithdrawalQueue", pool.address, token.address)
    vault = deploy("WithdrawalVault", pool.address)
    pool.transact(
        "initialize", token.address, queue.address, vault.address, sender=admin, value=DEAD_SHARES
    )
    wrapper = deploy("WrappedDivEther", token.address)
    return DivaLst(
        backend=backend,
        admin=admin,
        pool=StakingPool(pool),
        token=DivEther(token),
        queue=WithdrawalQueue(queue),
        vault=WithdrawalVault(vault),
        wrapper=WrappedDivEther(wrapper),
    )

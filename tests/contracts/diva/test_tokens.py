"""divETH and wdivETH token behaviour: stETH share surface, events, EIP-2612 permit with the
EIP-712 domain, rebases (rewards, donations, burns), and the pool's vault pull."""

from __future__ import annotations

import boa
import pytest
from eth_account import Account
from eth_utils import keccak

from .conftest import DEAD_SHARES, ETHER, Lst

PERMIT_TYPE = keccak(
    b"Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
DOMAIN_TYPE = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def _word(value: int | str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value.rjust(32, b"\0")
    if isinstance(value, str):
        return bytes.fromhex(value[2:]).rjust(32, b"\0")
    return value.to_bytes(32, "big")


def _permit_signature(
    token, name: str, key: bytes, owner: str, spender: str, value: int, deadline: int
) -> tuple[int, bytes, bytes]:
    """Sign an EIP-2612 permit independently of the contract (domain rebuilt from scratch)."""
    domain = keccak(
        DOMAIN_TYPE
        + keccak(name.encode())
        + keccak(b"1")
        + _word(boa.env.evm.patch.chain_id)
        + _word(token.address)
    )
    assert token.DOMAIN_SEPARATOR() == domain
    struct = keccak(
        PERMIT_TYPE
        + _word(owner)
        + _word(spender)
        + _word(value)
        + _word(token.nonces(owner))
        + _word(deadline)
    )
    signed = Account.unsafe_sign_hash(keccak(b"\x19\x01" + domain + struct), key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


@pytest.mark.parametrize(
    ("which", "name"), [("token", "Diva Ether"), ("wrapper", "Wrapped Diva Ether")]
)
def test_permit(lst: Lst, which: str, name: str) -> None:
    token = getattr(lst, which)
    key = keccak(b"diva permit owner")
    owner = Account.from_key(key).address
    spender = lst.account("spender")
    deadline = boa.env.timestamp + 3600
    v, r, s = _permit_signature(token, name, key, owner, spender, 5 * ETHER, deadline)
    token.permit(owner, spender, 5 * ETHER, deadline, v, r, s)
    assert token.allowance(owner, spender) == 5 * ETHER
    assert token.nonces(owner) == 1
    reason = "divETH: invalid permit signature" if which == "token" else "erc20: invalid signature"
    with boa.reverts(reason):  # replay: the nonce moved on
        token.permit(owner, spender, 5 * ETHER, deadline, v, r, s)
    v, r, s = _permit_signature(token, name, key, owner, spender, ETHER, deadline)
    with boa.reverts(reason):  # signed by owner, presented for another owner
        token.permit(spender, spender, ETHER, deadline, v, r, s)
    expired = boa.env.timestamp - 1
    v, r, s = _permit_signature(token, name, key, owner, spender, ETHER, expired)
    expired_reason = "divETH: permit expired" if which == "token" else "erc20: expired deadline"
    with boa.reverts(expired_reason):
        token.permit(owner, spender, ETHER, expired, v, r, s)
    assert token.eip712Domain()[1:5] == (name, "1", boa.env.evm.patch.chain_id, token.address)


def test_share_surface_and_events(lst: Lst) -> None:
    alice, bob = lst.account("alice"), lst.account("bob")
    lst.deposit(alice, 10 * ETHER)
    logs = lst.pool.get_logs()
    assert [type(e).__name__ for e in logs][-2:] == ["Transfer", "TransferShares"]
    # rewards raise the rate to 1.1 for everyone
    lst.pool.receive_donation(value=ETHER + 100, sender=bob)
    pooled, shares = lst.rate()
    assert (pooled, shares) == (11 * ETHER + DEAD_SHARES + 100, 10 * ETHER + DEAD_SHARES)
    assert lst.token.totalSupply() == lst.token.getTotalPooledEther() == pooled
    assert lst.token.balanceOf(alice) == 10 * ETHER * pooled // shares
    assert lst.token.getPooledEthByShares(3) == 3 * pooled // shares
    assert lst.token.getPooledEthBySharesRoundUp(3) == -(-3 * pooled // shares)
    assert lst.token.getSharesByPooledEth(ETHER) == ETHER * shares // pooled
    with boa.env.prank(alice):
        value = lst.token.transferShares(bob, ETHER)
    logs = lst.token.get_logs()
    assert value == ETHER * pooled // shares and lst.token.sharesOf(bob) == ETHER
    assert (logs[-1].sharesValue, logs[-2].value) == (ETHER, value)
    # transferSharesFrom spends the allowance by the value rounded UP
    with boa.env.prank(alice):
        lst.token.approve(bob, lst.token.getPooledEthBySharesRoundUp(7) - 1)
    with boa.reverts("divETH: insufficient allowance"), boa.env.prank(bob):
        lst.token.transferSharesFrom(alice, bob, 7)
    with boa.env.prank(alice):
        lst.token.approve(bob, 2**256 - 1)
    with boa.env.prank(bob):
        lst.token.transferFrom(alice, bob, ETHER)
    assert lst.token.allowance(alice, bob) == 2**256 - 1  # infinite allowance is not spent


def test_burn_shares_is_a_gift(lst: Lst) -> None:
    alice, bob = lst.account("alice"), lst.account("bob")
    lst.deposit(alice, 10 * ETHER)
    lst.deposit(bob, 10 * ETHER)
    with boa.env.prank(alice):
        lst.token.burn_shares(5 * ETHER)
        burnt = lst.token.get_logs()[0]
    assert type(burnt).__name__ == "SharesBurnt" and burnt.sharesAmount == 5 * ETHER
    assert lst.pool.total_pooled_ether() == 20 * ETHER + DEAD_SHARES
    assert lst.token.balanceOf(bob) > 13 * ETHER


def test_wrap_after_rebase_and_aliases(lst: Lst) -> None:
    alice = lst.account("alice")
    lst.deposit(alice, 10 * ETHER)
    lst.pool.receive_donation(value=10 * ETHER + DEAD_SHARES, sender=alice)  # rate = 2
    w = lst.wrapper
    assert w.divEthPerToken() == 2 * ETHER and w.tokensPerDivEth() == ETHER // 2
    assert w.getWdivEthByDivEth(4 * ETHER) == 2 * ETHER
    assert w.getDivEthByWdivEth(ETHER) == 2 * ETHER
    with boa.env.prank(alice):
        lst.token.approve(w.address, 4 * ETHER)
        assert w.wrap(4 * ETHER) == 2 * ETHER
        deposit_event = w.get_logs()[-1]
    assert w.totalAssets() == 4 * ETHER and w.totalSupply() == 2 * ETHER
    assert lst.token.sharesOf(w.address) == 2 * ETHER
    assert (deposit_event.assets, deposit_event.shares) == (4 * ETHER, 2 * ETHER)
    with boa.env.prank(alice):
        assert w.unwrap(ETHER) == 2 * ETHER


def test_report_pulls_vault_and_tracks_beacon(lst: Lst) -> None:
    alice = lst.account("alice")
    lst.deposit(alice, 64 * ETHER)
    with boa.env.prank(lst.depositor):
        lst.pool.withdraw_for_deposit(32 * ETHER)
        event = lst.pool.get_logs()[-1]
    assert (event.amount, event.in_transit) == (32 * ETHER, 32 * ETHER)
    lst.report(32 * ETHER, 1, 32 * ETHER)
    # an exit: 32 ETH leave the beacon chain for the vault, then the next report pulls them
    boa.env.set_balance(lst.vault.address, 32 * ETHER)
    pooled = lst.pool.total_pooled_ether()
    lst.report(0, 0, 32 * ETHER, vault_withdrawn=32 * ETHER)
    assert boa.env.get_balance(lst.vault.address) == 0
    assert lst.pool.buffered_ether() == 64 * ETHER + DEAD_SHARES
    assert lst.pool.total_pooled_ether() == pooled
    assert boa.env.get_balance(lst.pool.address) == lst.pool.buffered_ether()
    assert lst.pool.beacon_validators() == 0 and lst.pool.beacon_balance() == 0


def test_loss_is_shared_by_queued_requests(lst: Lst) -> None:
    alice, bob = lst.account("alice"), lst.account("bob")
    lst.deposit(alice, 50 * ETHER)
    lst.deposit(bob, 50 * ETHER)
    with boa.env.prank(lst.depositor):
        lst.pool.withdraw_for_deposit(96 * ETHER)
    lst.report(96 * ETHER, 3, 96 * ETHER, elapsed=0)
    with boa.env.prank(alice):
        request_id = lst.queue.request_withdrawals([10 * ETHER])[0]
    # a 4% loss before finalization: the request is paid at the lower rate; exits refill
    boa.env.set_balance(lst.vault.address, 20 * ETHER)
    lst.report(96 * ETHER - 4 * ETHER - 20 * ETHER, 3, vault_withdrawn=20 * ETHER, elapsed=60)
    pooled, shares = lst.rate()
    owner, req_shares, final, finalized, claimed = lst.queue.get_request(request_id)
    assert finalized and not claimed and owner == alice
    assert final == req_shares * (pooled + final) // (shares + req_shares) < 10 * ETHER
    with boa.env.prank(alice):
        lst.queue.claim_withdrawal(request_id, bob)
        assert lst.queue.get_logs()[-1].amount_of_ether == final

"""The hand-assembled SSZ trees (built without remerkleable's slow typed constructors) equal
the typed construction, field by field and root by root."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.state import ValidatorRecord

u64 = st.integers(0, 2**64 - 1)


@given(
    st.binary(min_size=48, max_size=48),
    st.binary(min_size=32, max_size=32),
    u64,
    st.booleans(),
    u64,
    u64,
    u64,
    u64,
)
def test_validator_record_ssz_equals_the_typed_container(
    pubkey: bytes,
    credentials: bytes,
    balance: int,
    slashed: bool,
    eligibility: int,
    activation: int,
    exit_epoch: int,
    withdrawable: int,
) -> None:
    record = ValidatorRecord(
        pubkey, credentials, balance, slashed, eligibility, activation, exit_epoch, withdrawable
    )
    typed = c.build(
        c.Validator,
        pubkey=pubkey,
        withdrawal_credentials=credentials,
        effective_balance=balance,
        slashed=slashed,
        activation_eligibility_epoch=eligibility,
        activation_epoch=activation,
        exit_epoch=exit_epoch,
        withdrawable_epoch=withdrawable,
    )
    fast = record.ssz()
    assert fast.hash_tree_root() == typed.hash_tree_root()
    assert fast.encode_bytes() == typed.encode_bytes()
    assert (int(fast.exit_epoch), bool(fast.slashed)) == (exit_epoch, slashed)

"""EIP-712 registration messages against eth_account's signer and a hand encoding (eth_abi)."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto import eip712
from nektar.crypto.node_key import NodeKey

CONTRACT = "0x" + "ab" * 20
KEY = NodeKey(bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))


def _registration(validator_id: int = 7) -> eip712.ValidatorRegistration:
    return eip712.ValidatorRegistration(
        validator_id=validator_id,
        pubkey=b"\x01" * 48,
        public_shares=(b"\x02" * 48, b"\x03" * 48, b"\x04" * 48, b"\x05" * 48),
        deposit_signature=b"\x06" * 96,
        deposit_data_root=b"\x07" * 32,
    )


def _hand_digest(domain: eip712.Eip712Domain, reg: eip712.ValidatorRegistration) -> bytes:
    domain_hash = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,"
                    "address verifyingContract)"
                ),
                keccak(text=domain.name),
                keccak(text="1"),
                domain.chain_id,
                domain.verifying_contract,
            ],
        )
    )
    struct_hash = keccak(
        encode(
            ["bytes32", "uint256", "bytes32", "bytes32", "bytes32", "bytes32"],
            [
                eip712.VALIDATOR_REGISTRATION_TYPEHASH,
                reg.validator_id,
                keccak(reg.pubkey),
                keccak(b"".join(reg.public_shares)),
                keccak(reg.deposit_signature),
                reg.deposit_data_root,
            ],
        )
    )
    return keccak(b"\x19\x01" + domain_hash + struct_hash)


def test_type_strings_are_the_interface():
    assert eip712.VALIDATOR_REGISTRATION_TYPE == (
        "ValidatorRegistration(uint256 validatorId,bytes pubkey,bytes publicShares,"
        "bytes depositSignature,bytes32 depositDataRoot)"
    )
    assert eip712.NODE_KEY_BINDING_TYPE == "NodeKeyBinding(address operator)"


def test_registration_digest_matches_hand_encoding():
    domain = eip712.validator_registry_domain(31337, CONTRACT)
    assert domain.name == "Nektar ValidatorRegistry"
    reg = _registration()
    assert eip712.digest(domain, reg) == _hand_digest(domain, reg)


@pytest.mark.parametrize("kind", ["registration", "binding"])
def test_signature_matches_eth_account(kind):
    if kind == "registration":
        domain, message = eip712.validator_registry_domain(1, CONTRACT), _registration()
    else:
        domain = eip712.operator_registry_domain(17000, bytes.fromhex("cd" * 20))
        message = eip712.NodeKeyBinding("0x" + "12" * 20)
    ours = eip712.sign(KEY, domain, message)
    full = eip712.typed_data(domain, message)
    theirs = Account.sign_typed_data(KEY.secret, full_message=full)
    assert ours == theirs.signature
    signable = encode_typed_data(full_message=full)
    assert Account.recover_message(signable, signature=ours) == Account.from_key(KEY.secret).address
    assert eip712.recover(domain, message, ours) == KEY.address


def test_recover_rejects_what_contracts_reject():
    domain, message = eip712.operator_registry_domain(1, CONTRACT), eip712.NodeKeyBinding(CONTRACT)
    sig = eip712.sign(KEY, domain, message)
    other = eip712.NodeKeyBinding("0x" + "99" * 20)
    assert eip712.recover(domain, other, sig) != KEY.address
    s = int.from_bytes(sig[32:64], "big")
    high_s = sig[:32] + (eip712.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with pytest.raises(eip712.Eip712Error, match="upper half"):
        eip712.recover(domain, message, high_s)
    with pytest.raises(eip712.Eip712Error, match="v must be"):
        eip712.recover(domain, message, sig[:64] + b"\x01")
    with pytest.raises(eip712.Eip712Error, match="65 bytes"):
        eip712.recover(domain, message, sig[:64])


def test_malformed_messages_are_typed_errors():
    with pytest.raises(eip712.Eip712Error, match="pubkey"):
        eip712.ValidatorRegistration(1, b"\x01" * 47, (b"\x02" * 48,), b"\x06" * 96, b"\x07" * 32)
    with pytest.raises(eip712.Eip712Error, match="public share 1"):
        eip712.ValidatorRegistration(
            1, b"\x01" * 48, (b"\x02" * 48, b"\x02"), b"\x06" * 96, b"\x07" * 32
        )
    with pytest.raises(eip712.Eip712Error, match="uint256"):
        eip712.ValidatorRegistration(-1, b"\x01" * 48, (b"\x02" * 48,), b"\x06" * 96, b"\x07" * 32)
    with pytest.raises(eip712.Eip712Error, match="operator"):
        eip712.NodeKeyBinding("0xzz")
    with pytest.raises(eip712.Eip712Error, match="contract"):
        eip712.validator_registry_domain(1, b"\x00" * 19)


@given(st.binary(max_size=70), st.binary(max_size=40))
def test_recover_random_input_only_typed_errors(signature, operator):
    domain = eip712.operator_registry_domain(1, CONTRACT)
    try:
        message = eip712.NodeKeyBinding(operator.hex())
        address = eip712.recover(domain, message, signature)
    except eip712.Eip712Error:
        return
    assert len(address) == 20

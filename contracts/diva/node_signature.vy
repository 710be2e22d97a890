# pragma version ~=0.4.3
"""
@title Node-key signature recovery (module)
@notice Recovers the signer of an EIP-712 digest from a 65-byte r‖s‖v signature under the
        rules of nektar.crypto.eip712.recover: exactly 65 bytes, v ∈ {27, 28}, 0 < s ≤ n/2
        (no malleable high-s twin). Both registries use it so that they agree with Python.
"""

# secp256k1 group order n, halved: signatures with a larger s are rejected
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
SIGNATURE_LENGTH: constant(uint256) = 65


@internal
@pure
def _eip712_digest(domain_separator: bytes32, struct_hash: bytes32) -> bytes32:
    """@dev keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))."""
    return keccak256(concat(b"\x19\x01", domain_separator, struct_hash))


@internal
@view
def _domain_separator(name_hash: bytes32, verifying_contract: address) -> bytes32:
    """@dev EIP712Domain(string name,string version,uint256 chainId,address verifyingContract), version "1"."""
    return keccak256(
        abi_encode(
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
            name_hash,
            keccak256("1"),
            chain.id,
            verifying_contract,
        )
    )


@internal
@pure
def _recover_at(digest: bytes32, signatures: Bytes[2080], offset: uint256) -> address:
    """
    @dev The signer of `digest` from the 65 bytes of `signatures` at `offset`; the zero
         address when the signature does not recover. Malformed v or s revert by name.
    """
    r: uint256 = convert(extract32(signatures, offset), uint256)
    s: uint256 = convert(extract32(signatures, offset + 32), uint256)
    v: uint256 = convert(slice(signatures, offset + 64, 1), uint256)
    assert v == 27 or v == 28, "signature: v must be 27 or 28"
    assert s != 0 and s <= HALF_N, "signature: s is zero or in the upper half of the curve order"
    return ecrecover(digest, v, r, s)

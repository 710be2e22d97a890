# pragma version ~=0.4.3
"""
@title BLS12-381 over the EIP-2537 precompiles (Prague): hash to G2, equivocation check
@notice Signatures are the Ethereum consensus ciphersuite's (minimal-pubkey-size, proof of
        possession): public keys in G1, signatures in G2, messages hashed to G2 with
        hash_to_curve (RFC 9380) BLS12381G2_XMD:SHA-256_SSWU_RO_ and the POP DST.
        Points use EIP-2537's uncompressed encoding: each base-field element in 64 bytes
        (16 zero bytes + 48), G1 = x‖y (128 bytes), G2 = x.c0‖x.c1‖y.c0‖y.c1 (256 bytes).
@dev    hash_to_curve is computed here, not taken as input: expand_message_xmd with the
        SHA-256 precompile, reduction of each 64-byte string modulo p with MODEXP (exponent
        1, a 64-byte modulus, so the result is already EIP-2537's 64-byte encoding),
        MAP_FP2_TO_G2 (which clears the cofactor: clearing is linear, so the sum of the two
        mapped points equals the RFC's clear_cofactor(Q0 + Q1)), then G2ADD.
        `verify_two` checks e(pk, H(a) + H(b)) = e(g1, σa + σb): one 2-pair pairing, no
        random linear combination. That proves the key's holder signed both `a` and `b`
        (docs/restaking-marketplace.md, "Equivocation proofs"), which is what a slash needs;
        it does not prove that each submitted signature is individually valid.
"""

MAX_MESSAGE: constant(uint256) = 256
# DST_prime = DST ‖ I2OSP(len(DST), 1), split 31 + 13 bytes so that every concat below joins
# fixed-size values (cheap mstores, no length bookkeeping)
DST_HEAD: constant(bytes31) = 0x424c535f5349475f424c53313233383147325f584d443a5348412d3235365f
DST_TAIL: constant(bytes13) = 0x535357555f524f5f504f505f2b
# MODEXP input: lengths (base 64 bytes, exponent 1, modulus 64), base, exponent 1, then p in
# 64 bytes (16 zero bytes ‖ P_HEAD ‖ P_TAIL), so the result is in EIP-2537's 64-byte encoding
LENGTH_64: constant(bytes32) = 0x0000000000000000000000000000000000000000000000000000000000000040
LENGTH_1: constant(bytes32) = 0x0000000000000000000000000000000000000000000000000000000000000001
EXPONENT_AND_PAD: constant(bytes17) = 0x0100000000000000000000000000000000
P_HEAD: constant(bytes16) = 0x1a0111ea397fe69a4b1ba7b6434bacd7
P_TAIL: constant(bytes32) = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab
NEG_G1: constant(Bytes[128]) = x"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca"
INFINITY_G1: constant(Bytes[128]) = x"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

MODEXP: constant(address) = 0x0000000000000000000000000000000000000005
G1MSM: constant(address) = 0x000000000000000000000000000000000000000C
G2ADD: constant(address) = 0x000000000000000000000000000000000000000d
PAIRING: constant(address) = 0x000000000000000000000000000000000000000F
MAP_FP2_TO_G2: constant(address) = 0x0000000000000000000000000000000000000011


@internal
@view
def _fp(hi: bytes32, lo: bytes32) -> Bytes[64]:
    """The 64-byte big-endian string hi‖lo reduced modulo p, in EIP-2537's 64-byte encoding."""
    return raw_call(
        MODEXP,
        concat(LENGTH_64, LENGTH_1, LENGTH_64, hi, lo, EXPONENT_AND_PAD, P_HEAD, P_TAIL),
        max_outsize=64,
        is_static_call=True,
    )


@internal
@pure
def _xmd(b0: uint256, previous: bytes32, i: bytes1) -> bytes32:
    """expand_message_xmd's b_i = H(strxor(b_0, b_(i-1)) ‖ I2OSP(i, 1) ‖ DST_prime)."""
    return sha256(
        concat(convert(b0 ^ convert(previous, uint256), bytes32), i, DST_HEAD, DST_TAIL)
    )


@internal
@view
def _map(hi_c0: bytes32, lo_c0: bytes32, hi_c1: bytes32, lo_c1: bytes32) -> Bytes[256]:
    """MAP_FP2_TO_G2 of the Fp2 element (hi_c0‖lo_c0 mod p) + (hi_c1‖lo_c1 mod p)·u."""
    return raw_call(
        MAP_FP2_TO_G2,
        concat(self._fp(hi_c0, lo_c0), self._fp(hi_c1, lo_c1)),
        max_outsize=256,
        is_static_call=True,
    )


@internal
@view
def hash_to_g2(message: Bytes[MAX_MESSAGE]) -> Bytes[256]:
    """
    RFC 9380 hash_to_curve for G2 with the Ethereum POP ciphersuite's DST. The precompile
    calls here cannot fail: every input is a canonical field element or a mapped point.
    """
    b0: uint256 = convert(
        sha256(concat(empty(bytes32), empty(bytes32), message, 0x010000, DST_HEAD, DST_TAIL)),
        uint256,
    )
    b1: bytes32 = sha256(concat(convert(b0, bytes32), 0x01, DST_HEAD, DST_TAIL))
    b2: bytes32 = self._xmd(b0, b1, 0x02)
    b3: bytes32 = self._xmd(b0, b2, 0x03)
    b4: bytes32 = self._xmd(b0, b3, 0x04)
    b5: bytes32 = self._xmd(b0, b4, 0x05)
    b6: bytes32 = self._xmd(b0, b5, 0x06)
    b7: bytes32 = self._xmd(b0, b6, 0x07)
    b8: bytes32 = self._xmd(b0, b7, 0x08)
    return raw_call(
        G2ADD,
        concat(self._map(b1, b2, b3, b4), self._map(b5, b6, b7, b8)),
        max_outsize=256,
        is_static_call=True,
    )


@internal
@view
def valid_g1(point: Bytes[128]) -> bool:
    """On the curve, in the subgroup (G1MSM checks both) and not the point at infinity."""
    if len(point) != 128 or keccak256(point) == keccak256(INFINITY_G1):
        return False
    ok: bool = False
    out: Bytes[128] = b""
    ok, out = raw_call(
        G1MSM,
        concat(point, convert(1, bytes32)),
        max_outsize=128,
        is_static_call=True,
        revert_on_failure=False,
    )
    return ok and len(out) == 128


@internal
@view
def verify_two(
    pubkey: Bytes[128],
    message_a: Bytes[MAX_MESSAGE],
    signature_a: Bytes[256],
    message_b: Bytes[MAX_MESSAGE],
    signature_b: Bytes[256],
) -> bool:
    """
    `pubkey`'s holder signed both messages (distinct; reverts "malformed BLS point" on bad
    input): e(pk, H(a) + H(b)) · e(−g1, σa + σb) = 1. G2ADD rejects points off the curve;
    the pairing subgroup-checks both sums.
    """
    assert len(signature_a) == 256 and len(signature_b) == 256, "malformed BLS point"
    ok: bool = False
    s: Bytes[256] = b""
    ok, s = raw_call(
        G2ADD,
        concat(signature_a, signature_b),
        max_outsize=256,
        is_static_call=True,
        revert_on_failure=False,
    )
    assert ok, "malformed BLS point"
    h: Bytes[256] = raw_call(
        G2ADD,
        concat(self.hash_to_g2(message_a), self.hash_to_g2(message_b)),
        max_outsize=256,
        is_static_call=True,
    )
    out: Bytes[32] = b""
    ok, out = raw_call(
        PAIRING,
        concat(pubkey, h, NEG_G1, s),
        max_outsize=32,
        is_static_call=True,
        revert_on_failure=False,
    )
    assert ok and len(out) == 32, "malformed BLS point"
    return convert(out, uint256) == 1

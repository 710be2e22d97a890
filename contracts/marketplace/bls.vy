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
        1), MAP_FP2_TO_G2 (which clears the cofactor: clearing is linear, so the sum of the
        two mapped points equals the RFC's clear_cofactor(Q0 + Q1)), then G2ADD.
        Two signatures by one key are checked with a single 2-pair pairing over a random
        linear combination (r from keccak of all inputs, 128 bits):
        e(pk, H(a) + r·H(b)) · e(−g1, σa + r·σb) = 1. G2MSM subgroup-checks r's operands;
        the pairing subgroup-checks the sums, so each σ is in G2 too.
"""

MAX_MESSAGE: constant(uint256) = 256
DST_PRIME: constant(Bytes[44]) = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_\x2b"
P: constant(Bytes[48]) = x"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab"
NEG_G1: constant(Bytes[128]) = x"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca"
PAD16: constant(bytes16) = empty(bytes16)
INFINITY_G1: constant(Bytes[128]) = x"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

MODEXP: constant(address) = 0x0000000000000000000000000000000000000005
G1MSM: constant(address) = 0x000000000000000000000000000000000000000C
G2ADD: constant(address) = 0x000000000000000000000000000000000000000d
G2MSM: constant(address) = 0x000000000000000000000000000000000000000E
PAIRING: constant(address) = 0x000000000000000000000000000000000000000F
MAP_FP2_TO_G2: constant(address) = 0x0000000000000000000000000000000000000011


@internal
@view
def _fp(hi: bytes32, lo: bytes32) -> Bytes[64]:
    """A 64-byte big-endian string reduced modulo p, in EIP-2537's 64-byte encoding."""
    reduced: Bytes[48] = raw_call(
        MODEXP,
        concat(convert(64, bytes32), convert(1, bytes32), convert(48, bytes32), hi, lo, x"01", P),
        max_outsize=48,
        is_static_call=True,
    )
    return concat(PAD16, reduced)


@internal
@view
def _call(target: address, data: Bytes[512]) -> Bytes[256]:
    ok: bool = False
    out: Bytes[256] = b""
    ok, out = raw_call(target, data, max_outsize=256, is_static_call=True, revert_on_failure=False)
    assert ok, "malformed BLS point"
    return out


@internal
@view
def hash_to_g2(message: Bytes[MAX_MESSAGE]) -> Bytes[256]:
    """RFC 9380 hash_to_curve for G2 with the Ethereum POP ciphersuite's DST."""
    b0: bytes32 = sha256(
        concat(empty(bytes32), empty(bytes32), message, x"010000", DST_PRIME)
    )
    b: bytes32[8] = empty(bytes32[8])
    b[0] = sha256(concat(b0, x"01", DST_PRIME))
    for i: uint256 in range(1, 8):
        mixed: bytes32 = convert(convert(b0, uint256) ^ convert(b[i - 1], uint256), bytes32)
        b[i] = sha256(concat(mixed, convert(convert(i + 1, uint8), bytes1), DST_PRIME))
    q0: Bytes[256] = self._call(MAP_FP2_TO_G2, concat(self._fp(b[0], b[1]), self._fp(b[2], b[3])))
    q1: Bytes[256] = self._call(MAP_FP2_TO_G2, concat(self._fp(b[4], b[5]), self._fp(b[6], b[7])))
    return self._call(G2ADD, concat(q0, q1))


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
    """Both signatures are valid under `pubkey` (reverts "malformed BLS point" on bad input)."""
    assert len(signature_a) == 256 and len(signature_b) == 256, "malformed BLS point"
    r: bytes32 = convert(
        convert(keccak256(concat(pubkey, signature_a, signature_b, keccak256(message_a), keccak256(message_b))), uint256) >> 128 | 1,
        bytes32,
    )
    h: Bytes[256] = self._call(
        G2ADD,
        concat(
            self.hash_to_g2(message_a),
            self._call(G2MSM, concat(self.hash_to_g2(message_b), r)),
        ),
    )
    s: Bytes[256] = self._call(G2ADD, concat(signature_a, self._call(G2MSM, concat(signature_b, r))))
    ok: bool = False
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

# pragma version ~=0.4.3
"""Exposes the marketplace's BLS module for tests against the crypto core."""

from ....contracts.marketplace import bls


@external
@view
def hash_to_g2(message: Bytes[bls.MAX_MESSAGE]) -> Bytes[256]:
    return bls.hash_to_g2(message)


@external
@view
def valid_g1(point: Bytes[128]) -> bool:
    return bls.valid_g1(point)


@external
@view
def verify_two(
    pubkey: Bytes[128],
    message_a: Bytes[bls.MAX_MESSAGE],
    signature_a: Bytes[256],
    message_b: Bytes[bls.MAX_MESSAGE],
    signature_b: Bytes[256],
) -> bool:
    return bls.verify_two(pubkey, message_a, signature_a, message_b, signature_b)

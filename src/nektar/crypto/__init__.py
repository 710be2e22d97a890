"""Cryptography: BLS, threshold shares, DKG, keys, SSZ signing roots (DESIGN.md §2)."""

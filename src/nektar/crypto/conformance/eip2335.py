"""EIP-2335 conformance suite: keystores (`DIR/*.json`) that must decrypt.

A keystore's password is read from `<name>.password.txt` or `<name>.txt` beside it when one
exists, else it is the EIP's test password. A case passes when the checksum accepts the
password and, if the keystore names a pubkey, the secret is the BLS key of that pubkey.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from nektar.crypto import bls
from nektar.crypto.conformance import CaseResult
from nektar.crypto.keystore import Keystore, KeystoreError, read_password_file

EIP_TEST_PASSWORD = (
    "\U0001d531\U0001d522\U0001d530\U0001d531\U0001d52d\U0001d51e\U0001d530\U0001d530"
    "\U0001d534\U0001d52c\U0001d52f\U0001d521\U0001f511"
)


def _password(path: Path) -> str:
    for candidate in (path.with_suffix(".password.txt"), path.with_suffix(".txt")):
        if candidate.is_file():
            return read_password_file(candidate)
    return EIP_TEST_PASSWORD


def _check(path: Path) -> str:
    keystore = Keystore.load(path)
    secret = keystore.decrypt(_password(path))
    if keystore.pubkey is None:
        return ""
    sk = int.from_bytes(secret, "big")
    if len(secret) != 32 or not 0 < sk < bls.CURVE_ORDER:
        return "decrypted secret is not a BLS secret key"
    if bls.sk_to_pk(sk) != keystore.pubkey:
        return "decrypted secret does not match the keystore pubkey"
    return ""


def run_cases(directory: Path) -> Iterator[CaseResult]:
    for path in sorted(Path(directory).glob("*.json")):
        try:
            failure = _check(path)
        except KeystoreError as exc:
            failure = str(exc)
        yield CaseResult(path.stem, not failure, failure)

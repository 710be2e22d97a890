"""EIP-2335 BLS keystores: read and write, scrypt or PBKDF2 key derivation, AES-128-CTR.

Every secret a node holds at rest (its key shares) is a keystore, so the files interoperate with
staking-deposit-cli, Charon and validator clients. Parsing is strict: anything malformed raises
`KeystoreError` naming the field, and KDF parameters are bounded so that a hostile file cannot
make the node allocate gigabytes or spin for hours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES

from nektar.crypto import bls

VERSION = 4
SCRYPT_DEFAULT = {"dklen": 32, "n": 2**18, "r": 8, "p": 1}
PBKDF2_DEFAULT = {"dklen": 32, "c": 2**18, "prf": "hmac-sha256"}
# Hostile-file bounds: scrypt memory is 128·r·n·p bytes; 2^20·8 → 1 GiB is the ceiling.
MAX_SCRYPT_MEMORY = 2**30
MAX_PBKDF2_ROUNDS = 2**24


class KeystoreError(ValueError):
    """A keystore that is malformed, uses unsupported parameters, or does not decrypt."""


def normalize_password(password: str) -> bytes:
    """EIP-2335 password processing: NFKD, then drop C0, C1 and DEL control codes, then UTF-8."""
    if not isinstance(password, str):
        raise KeystoreError("a keystore password is a string")
    normalized = unicodedata.normalize("NFKD", password)
    kept = "".join(c for c in normalized if not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F))
    return kept.encode("utf-8")


def read_password_file(path: str | os.PathLike[str]) -> str:
    """A password stored in a file, without its trailing line break (as Charon writes them)."""
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeystoreError(f"cannot read password file {path}: {exc}") from exc


def _hex(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise KeystoreError(f"{what} must be a hex string")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise KeystoreError(f"{what} is not valid hex") from exc
    if length is not None and len(raw) != length:
        raise KeystoreError(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def _module(crypto: dict[str, Any], name: str) -> tuple[str, dict[str, Any], str]:
    module = crypto.get(name)
    if not isinstance(module, dict):
        raise KeystoreError(f"crypto.{name} is missing or not an object")
    function, params, message = (module.get(k) for k in ("function", "params", "message"))
    if (
        not isinstance(function, str)
        or not isinstance(params, dict)
        or not isinstance(message, str)
    ):
        raise KeystoreError(f"crypto.{name} needs string function, object params, string message")
    return function, params, message


def _int_param(params: dict[str, Any], key: str, what: str) -> int:
    value = params.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise KeystoreError(f"{what} parameter {key!r} must be a positive integer")
    return value


@dataclass(frozen=True)
class Kdf:
    """A validated KDF module: derives the 32-byte decryption key from the password."""

    function: str
    params: dict[str, Any]
    salt: bytes

    @classmethod
    def parse(cls, function: str, params: dict[str, Any]) -> Kdf:
        dklen = _int_param(params, "dklen", function)
        if not 32 <= dklen <= 64:
            raise KeystoreError(f"{function} dklen must be in [32, 64], got {dklen}")
        salt = _hex(params.get("salt"), f"{function} salt")
        if function == "scrypt":
            n, r, p = (_int_param(params, k, "scrypt") for k in ("n", "r", "p"))
            if n < 2 or n & (n - 1):
                raise KeystoreError(f"scrypt n must be a power of two > 1, got {n}")
            if 128 * r * n * p > MAX_SCRYPT_MEMORY:
                raise KeystoreError("scrypt parameters need more than 1 GiB of memory")
        elif function == "pbkdf2":
            if params.get("prf") != "hmac-sha256":
                raise KeystoreError(f"pbkdf2 prf must be 'hmac-sha256', got {params.get('prf')!r}")
            if _int_param(params, "c", "pbkdf2") > MAX_PBKDF2_ROUNDS:
                raise KeystoreError(f"pbkdf2 round count above {MAX_PBKDF2_ROUNDS}")
        else:
            raise KeystoreError(f"unsupported kdf {function!r} (scrypt or pbkdf2)")
        return cls(function, dict(params), salt)

    def derive(self, password: bytes) -> bytes:
        p = self.params
        if self.function == "scrypt":
            return hashlib.scrypt(
                password,
                salt=self.salt,
                n=p["n"],
                r=p["r"],
                p=p["p"],
                dklen=p["dklen"],
                maxmem=MAX_SCRYPT_MEMORY + 2**24,
            )
        return hashlib.pbkdf2_hmac("sha256", password, self.salt, p["c"], p["dklen"])


@dataclass(frozen=True)
class Keystore:
    """One parsed EIP-2335 keystore (version 4)."""

    kdf: Kdf
    checksum: bytes
    iv: bytes
    ciphertext: bytes
    pubkey: bytes | None = None
    path: str = ""
    description: str = ""
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    # --- reading ---------------------------------------------------------------------------

    @classmethod
    def from_json(cls, document: str | bytes | dict[str, Any]) -> Keystore:
        """Parse and validate a keystore (text or already-decoded JSON object)."""
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except (ValueError, UnicodeDecodeError) as exc:
                raise KeystoreError(f"keystore is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise KeystoreError("a keystore is a JSON object")
        if document.get("version") != VERSION:
            raise KeystoreError(f"keystore version must be 4, got {document.get('version')!r}")
        crypto = document.get("crypto")
        if not isinstance(crypto, dict):
            raise KeystoreError("keystore has no crypto object")
        kdf_function, kdf_params, _ = _module(crypto, "kdf")
        checksum_function, _, checksum = _module(crypto, "checksum")
        cipher_function, cipher_params, ciphertext = _module(crypto, "cipher")
        if checksum_function != "sha256":
            raise KeystoreError(f"unsupported checksum {checksum_function!r} (sha256)")
        if cipher_function != "aes-128-ctr":
            raise KeystoreError(f"unsupported cipher {cipher_function!r} (aes-128-ctr)")
        pubkey = document.get("pubkey")
        for key in ("path", "description", "uuid"):
            if not isinstance(document.get(key, ""), str):
                raise KeystoreError(f"keystore {key} must be a string")
        return cls(
            kdf=Kdf.parse(kdf_function, kdf_params),
            checksum=_hex(checksum, "checksum message", 32),
            iv=_hex(cipher_params.get("iv"), "cipher iv", 16),
            ciphertext=_hex(ciphertext, "cipher message"),
            pubkey=None if pubkey in (None, "") else _hex(pubkey, "pubkey", bls.PUBKEY_LENGTH),
            path=document.get("path", ""),
            description=document.get("description", ""),
            uuid=document.get("uuid", ""),
        )

    @classmethod
    def load(cls, file: str | os.PathLike[str]) -> Keystore:
        try:
            text = Path(file).read_bytes()
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore {file}: {exc}") from exc
        return cls.from_json(text)

    def decrypt(self, password: str) -> bytes:
        """The secret, after checking the password against the checksum."""
        key = self.kdf.derive(normalize_password(password))
        expected = hashlib.sha256(key[16:32] + self.ciphertext).digest()
        if not hmac.compare_digest(expected, self.checksum):
            raise KeystoreError("wrong password or corrupted keystore (checksum mismatch)")
        return AES.new(key[:16], AES.MODE_CTR, initial_value=self.iv, nonce=b"").decrypt(
            self.ciphertext
        )

    # --- writing ---------------------------------------------------------------------------

    @classmethod
    def encrypt(
        cls,
        secret: bytes,
        password: str,
        *,
        kdf: str = "scrypt",
        kdf_params: dict[str, Any] | None = None,
        pubkey: bytes | None = None,
        path: str = "",
        description: str = "",
    ) -> Keystore:
        """A new keystore for `secret` with fresh salt and IV. `kdf_params` overrides the
        EIP defaults (e.g. a low scrypt n for tests; never in production)."""
        defaults = {"scrypt": SCRYPT_DEFAULT, "pbkdf2": PBKDF2_DEFAULT}.get(kdf)
        if defaults is None:
            raise KeystoreError(f"unsupported kdf {kdf!r} (scrypt or pbkdf2)")
        params = {**defaults, **(kdf_params or {}), "salt": secrets.token_hex(32)}
        derivation = Kdf.parse(kdf, params)
        key = derivation.derive(normalize_password(password))
        iv = secrets.token_bytes(16)
        ciphertext = AES.new(key[:16], AES.MODE_CTR, initial_value=iv, nonce=b"").encrypt(secret)
        return cls(
            kdf=derivation,
            checksum=hashlib.sha256(key[16:32] + ciphertext).digest(),
            iv=iv,
            ciphertext=ciphertext,
            pubkey=pubkey,
            path=path,
            description=description,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "crypto": {
                "kdf": {"function": self.kdf.function, "params": self.kdf.params, "message": ""},
                "checksum": {"function": "sha256", "params": {}, "message": self.checksum.hex()},
                "cipher": {
                    "function": "aes-128-ctr",
                    "params": {"iv": self.iv.hex()},
                    "message": self.ciphertext.hex(),
                },
            },
            "description": self.description,
            "pubkey": self.pubkey.hex() if self.pubkey else "",
            "path": self.path,
            "uuid": self.uuid,
            "version": VERSION,
        }

    def save(self, file: str | os.PathLike[str]) -> None:
        """Write atomically (temp file + rename) with owner-only permissions."""
        target = Path(file)
        tmp = target.with_name(f".{target.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.to_json(), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)


def save_secret_key(
    sk: int,
    password: str,
    file: str | os.PathLike[str],
    *,
    path: str = "",
    kdf: str = "scrypt",
    kdf_params: dict[str, Any] | None = None,
    description: str = "",
) -> Keystore:
    """Store a BLS secret key (a whole key or a threshold share) as a keystore file."""
    try:
        pubkey = bls.sk_to_pk(sk)
    except bls.BLSError as exc:
        raise KeystoreError(f"not a BLS secret key: {exc}") from exc
    keystore = Keystore.encrypt(
        sk.to_bytes(32, "big"),
        password,
        kdf=kdf,
        kdf_params=kdf_params,
        pubkey=pubkey,
        path=path,
        description=description,
    )
    keystore.save(file)
    return keystore


def load_secret_key(file: str | os.PathLike[str] | Keystore, password: str) -> int:
    """A BLS secret key from a keystore, checked to be in [1, r) and to match its pubkey."""
    keystore = file if isinstance(file, Keystore) else Keystore.load(file)
    secret = keystore.decrypt(password)
    if len(secret) != 32:
        raise KeystoreError(f"a BLS secret is 32 bytes, the keystore holds {len(secret)}")
    sk = int.from_bytes(secret, "big")
    if not 0 < sk < bls.CURVE_ORDER:
        raise KeystoreError("the keystore secret is not a valid BLS secret key")
    if keystore.pubkey is not None and bls.sk_to_pk(sk) != keystore.pubkey:
        raise KeystoreError("the keystore secret does not match its pubkey")
    return sk

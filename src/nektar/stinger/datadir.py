"""The node's data directory: everything a restart resumes from.

```
<data_dir>/
  node_key.json            secp256k1 node key, EIP-2335 encryption (or a plain 64-hex file)
  password.txt             password of node_key.json
  clusters/<0xpubkey>.json one cluster definition per distributed validator
  keys/<0xpubkey>.json     this node's key share of that validator (EIP-2335 keystore)
  keys/password.txt        password of the share keystores
  slashing_protection.sqlite  EIP-3076 store (nektar.crypto.slashing_protection)
  duties.sqlite            agreed duty data (dutystore)
```

Cluster definitions are plain JSON so that the DKG engine (and operators) can add clusters
while the node runs: `ClusterStore.add` writes the file atomically and tells listeners.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nektar.crypto import bls
from nektar.crypto.keystore import (
    Keystore,
    KeystoreError,
    load_secret_key,
    read_password_file,
    save_secret_key,
)
from nektar.crypto.node_key import NodeKey, NodeKeyError


class DataDirError(ValueError):
    """A data-directory file is missing or invalid; the message names the file and the fix."""


def _hex(value: str, length: int, what: str) -> str:
    raw = value.removeprefix("0x")
    try:
        decoded = bytes.fromhex(raw)
    except ValueError:
        raise ValueError(f"{what} is not hex") from None
    if len(decoded) != length:
        raise ValueError(f"{what} is {length} bytes, got {len(decoded)}")
    return "0x" + raw.lower()


class Member(BaseModel):
    """One operator of a cluster: its node address and where its node listens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str  # 0x + 20-byte node address
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: unknown (peer overrides or inbound only)

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _hex(v, 20, "member address")

    @property
    def node_address(self) -> bytes:
        return bytes.fromhex(self.address[2:])


class ClusterDefinition(BaseModel):
    """One distributed validator as this node knows it (written by the DKG or the harness)."""

    model_config = ConfigDict(extra="forbid")

    group_pubkey: str
    threshold: int = Field(ge=1)
    members: list[Member]  # member order: share index i is members[i-1]
    public_shares: list[str]  # member order
    my_index: int = Field(ge=1)  # this node's share index (1-based)
    validator_index: int | None = None  # learnt from the beacon node once deposited

    @field_validator("group_pubkey")
    @classmethod
    def _group(cls, v: str) -> str:
        return _hex(v, 48, "group_pubkey")

    @field_validator("public_shares")
    @classmethod
    def _shares(cls, v: list[str]) -> list[str]:
        return [_hex(s, 48, "public share") for s in v]

    @model_validator(mode="after")
    def _consistent(self) -> ClusterDefinition:
        n = len(self.members)
        if len(self.public_shares) != n:
            raise ValueError(f"{n} members but {len(self.public_shares)} public shares")
        if not self.threshold <= n or not self.my_index <= n:
            raise ValueError(f"threshold and my_index must be ≤ n = {n}")
        if len({m.address for m in self.members}) != n:
            raise ValueError("member addresses must be distinct")
        return self

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def pubkey(self) -> bytes:
        return bytes.fromhex(self.group_pubkey[2:])

    def public_share(self, index: int) -> bytes:
        return bytes.fromhex(self.public_shares[index - 1][2:])

    def share_index_of(self, address: bytes) -> int | None:
        for i, member in enumerate(self.members, start=1):
            if member.node_address == address:
                return i
        return None

    @property
    def member_addresses(self) -> tuple[bytes, ...]:
        return tuple(m.node_address for m in self.members)


@dataclass
class Validator:
    """A cluster definition with this node's decrypted share: what the duty workflow signs with.

    Decoded keys are kept here: a node verifies partials under every member's public share
    and combined signatures under the group key every slot, and thousands of validators'
    keys would churn a shared decoding cache."""

    definition: ClusterDefinition
    share: int
    _share_points: dict[int, bls.G1Point] = field(default_factory=dict, repr=False)

    @cached_property
    def pubkey(self) -> bytes:
        return self.definition.pubkey

    @cached_property
    def group_point(self) -> bls.G1Point:
        """The group public key, decoded and subgroup-checked once."""
        return bls.decode_pubkey(self.pubkey)

    def share_point(self, index: int) -> bls.G1Point:
        """Member `index`'s public share, decoded and subgroup-checked once."""
        point = self._share_points.get(index)
        if point is None:
            point = self._share_points[index] = bls.decode_pubkey(
                self.definition.public_share(index)
            )
        return point

    @property
    def index(self) -> int | None:
        return self.definition.validator_index


class DataDir:
    """Paths and file formats of one node's data directory."""

    def __init__(
        self, root: Path, node_key_file: Path | None = None, password_file: Path | None = None
    ) -> None:
        self.root = root.expanduser()
        self.node_key_file = node_key_file or self.root / "node_key.json"
        self.password_file = password_file or self.root / "password.txt"
        self.clusters_dir = self.root / "clusters"
        self.keys_dir = self.root / "keys"
        self.share_password_file = self.keys_dir / "password.txt"
        self.slashing_db = self.root / "slashing_protection.sqlite"
        self.duty_db = self.root / "duties.sqlite"

    def create(self) -> None:
        for folder in (self.root, self.clusters_dir, self.keys_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def require(self) -> None:
        """Fail early, naming the fix, when the directory was never initialised."""
        if not self.node_key_file.exists():
            raise DataDirError(
                f"no node key at {self.node_key_file}; run `stinger init --data-dir "
                f"{self.root}` first (or pass --node-key-file)"
            )

    # --- node key ----------------------------------------------------------------------
    def write_node_key(self, key: NodeKey, kdf_params: dict[str, Any] | None = None) -> None:
        """Encrypt the node key with a fresh random password (written beside it)."""
        self.create()
        if self.node_key_file.exists():
            raise DataDirError(f"{self.node_key_file} exists; refusing to overwrite a node key")
        password = secrets.token_urlsafe(24)
        _write_private(self.password_file, password)
        Keystore.encrypt(
            key.secret,
            password,
            kdf_params=kdf_params,
            description=f"nektar secp256k1 node key 0x{key.address.hex()}",
        ).save(self.node_key_file)

    def load_node_key(self) -> NodeKey:
        """The node key from an EIP-2335-encrypted file, or a plain 64-hex-character file."""
        self.require()
        text = self.node_key_file.read_text().strip()
        try:
            if text.startswith("{"):
                secret = Keystore.from_json(text).decrypt(read_password_file(self.password_file))
            else:
                secret = bytes.fromhex(text.removeprefix("0x"))
            return NodeKey(secret)
        except (KeystoreError, NodeKeyError, ValueError) as exc:
            raise DataDirError(
                f"cannot load node key {self.node_key_file}: {exc} (check the password file "
                f"{self.password_file})"
            ) from exc

    # --- shares ------------------------------------------------------------------------
    def share_file(self, pubkey: bytes) -> Path:
        return self.keys_dir / f"0x{pubkey.hex()}.json"

    def cluster_file(self, pubkey: bytes) -> Path:
        return self.clusters_dir / f"0x{pubkey.hex()}.json"

    def share_password(self) -> str:
        if not self.share_password_file.exists():
            self.create()
            _write_private(self.share_password_file, secrets.token_urlsafe(24))
        return read_password_file(self.share_password_file)

    def write_share(
        self, pubkey: bytes, share: int, kdf: str = "scrypt", kdf_params: dict | None = None
    ) -> None:
        save_secret_key(
            share,
            self.share_password(),
            self.share_file(pubkey),
            kdf=kdf,
            kdf_params=kdf_params,
            description=f"nektar key share of 0x{pubkey.hex()}",
        )

    def load_share(self, definition: ClusterDefinition) -> int:
        """Decrypt this node's share and check it against the definition's public share."""
        path = self.share_file(definition.pubkey)
        try:
            keystore = Keystore.load(path)
            share = load_secret_key(keystore, self.share_password())
        except KeystoreError as exc:
            raise DataDirError(f"cannot load key share {path}: {exc}") from exc
        public_share = definition.public_share(definition.my_index)
        # load_secret_key checked the secret against the keystore's pubkey when it has one
        if (keystore.pubkey or bls.sk_to_pk(share)) != public_share:
            raise DataDirError(
                f"{path} does not hold share {definition.my_index} of {definition.group_pubkey}"
                " (its public key differs from the cluster definition's public share)"
            )
        return share


Listener = Callable[[Validator], None]


class ClusterStore:
    """The node's distributed validators; the DKG engine adds new ones at runtime."""

    def __init__(self, datadir: DataDir) -> None:
        self.datadir = datadir
        self.validators: dict[bytes, Validator] = {}
        self._listeners: list[Listener] = []

    def load(self) -> None:
        """Read every cluster definition and its share; a bad file stops the node (it would
        otherwise silently miss that validator's duties)."""
        self.datadir.create()
        for path in sorted(self.datadir.clusters_dir.glob("0x*.json")):
            definition = _read_definition(path)
            share = self.datadir.load_share(definition)
            self.validators[definition.pubkey] = Validator(definition, share)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add(self, definition: ClusterDefinition, share: int) -> Validator:
        """Persist a new validator (share first, then the definition) and announce it."""
        return self.announce(self.persist(definition, share))

    def persist(self, definition: ClusterDefinition, share: int) -> Validator:
        """Write the share's keystore and the definition. The keystore's KDF takes ~0.5 s of
        CPU, so a running node calls this in a worker thread and `announce`s on its loop."""
        if bls.sk_to_pk(share) != definition.public_share(definition.my_index):
            raise DataDirError("the share does not match the definition's public share")
        self.datadir.create()
        self.datadir.write_share(definition.pubkey, share)
        _write_atomic(self.datadir.cluster_file(definition.pubkey), _dump(definition))
        return Validator(definition, share)

    def announce(self, validator: Validator) -> Validator:
        """Serve a persisted validator and tell the listeners (the workflow) about it."""
        self.validators[validator.definition.pubkey] = validator
        for listener in self._listeners:
            listener(validator)
        return validator

    def set_validator_index(self, pubkey: bytes, index: int) -> None:
        self.set_validator_indices({pubkey: index})

    def set_validator_indices(self, indices: dict[bytes, int]) -> None:
        """Record beacon-chain indices (a batch of deposits may activate thousands at once:
        the definitions are rewritten, then made durable with one sync)."""
        changed = []
        for pubkey, index in indices.items():
            validator = self.validators[pubkey]
            if validator.definition.validator_index != index:
                validator.definition.validator_index = index
                changed.append(validator.definition)
        if len(changed) == 1:
            _write_atomic(self.datadir.cluster_file(changed[0].pubkey), _dump(changed[0]))
        elif changed:
            for definition in changed:
                path = self.datadir.cluster_file(definition.pubkey)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(_dump(definition))
                os.replace(tmp, path)
            os.sync()


def _read_definition(path: Path) -> ClusterDefinition:
    try:
        return ClusterDefinition.model_validate_json(path.read_text())
    except (OSError, ValidationError) as exc:
        raise DataDirError(f"invalid cluster definition {path}: {exc}") from exc


def _dump(definition: ClusterDefinition) -> str:
    return json.dumps(definition.model_dump(), indent=2)


def write_definition(datadir: DataDir, definition: ClusterDefinition) -> None:
    """Write a cluster definition file (harness and DKG engine; the share is written apart)."""
    datadir.create()
    _write_atomic(datadir.cluster_file(definition.pubkey), _dump(definition))


def write_validators(
    datadir: DataDir,
    validators: Sequence[tuple[ClusterDefinition, int]],
    kdf: str = "scrypt",
    kdf_params: dict[str, Any] | None = None,
) -> None:
    """Provision many validators at once (definition, this node's share): each share keystore
    and definition is written plainly, then one `os.sync()` makes the batch durable. Writing
    thousands of validators one `fsync` at a time costs ~7 ms per file on this machine's disk
    (over a minute for 4 × 3,000); a node is not running on the directory while it is filled."""
    datadir.create()
    password = datadir.share_password()
    for definition, share in validators:
        public_share = bls.sk_to_pk(share)
        if public_share != definition.public_share(definition.my_index):
            raise DataDirError(
                f"the share of {definition.group_pubkey} does not match its definition"
            )
        keystore = Keystore.encrypt(
            share.to_bytes(32, "big"),
            password,
            kdf=kdf,
            kdf_params=kdf_params,
            pubkey=public_share,
            description=f"nektar key share of {definition.group_pubkey}",
        )
        _write_private(datadir.share_file(definition.pubkey), json.dumps(keystore.to_json()))
        datadir.cluster_file(definition.pubkey).write_text(_dump(definition))
    os.sync()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)

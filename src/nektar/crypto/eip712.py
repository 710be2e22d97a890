"""The two EIP-712 typed messages of the Diva registries: the single definition that the node
(`nektar.stinger`), the chain layer (`nektar.chain`) and the contracts' tests share.

- `ValidatorRegistration`: every member of a DKG cluster signs the registration of the new
  validator (group pubkey, public shares, deposit signature and root) with its node key; the
  ValidatorRegistry checks one signature per cluster member.
- `NodeKeyBinding`: the node key signs its operator's address, a proof of possession that binds
  the key to the operator in the OperatorRegistry (which stores the node key's address).

Encoding is eth_account's (EIP-712 reference behaviour); signatures are 65-byte r‖s‖v with
v ∈ {27, 28} and low s, as the contracts require.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from nektar.crypto.node_key import NodeKey, NodeKeyError, public_key_to_address, recover_public_key

VALIDATOR_REGISTRY_NAME = "Nektar ValidatorRegistry"
OPERATOR_REGISTRY_NAME = "Nektar OperatorRegistry"
DOMAIN_VERSION = "1"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
VALIDATOR_REGISTRATION_FIELDS = [
    {"name": "validatorId", "type": "uint256"},
    {"name": "pubkey", "type": "bytes"},
    {"name": "publicShares", "type": "bytes"},
    {"name": "depositSignature", "type": "bytes"},
    {"name": "depositDataRoot", "type": "bytes32"},
]
NODE_KEY_BINDING_FIELDS = [{"name": "operator", "type": "address"}]


def _type_string(name: str, fields: list[dict[str, str]]) -> str:
    members = ",".join(field["type"] + " " + field["name"] for field in fields)
    return f"{name}({members})"


VALIDATOR_REGISTRATION_TYPE = _type_string("ValidatorRegistration", VALIDATOR_REGISTRATION_FIELDS)
NODE_KEY_BINDING_TYPE = _type_string("NodeKeyBinding", NODE_KEY_BINDING_FIELDS)
VALIDATOR_REGISTRATION_TYPEHASH = keccak(text=VALIDATOR_REGISTRATION_TYPE)
NODE_KEY_BINDING_TYPEHASH = keccak(text=NODE_KEY_BINDING_TYPE)


class Eip712Error(ValueError):
    """A typed message, domain or signature that is malformed or does not recover."""


def _address(value: bytes | str, what: str) -> str:
    """Checksummed form of a 20-byte address given as bytes or 0x-hex."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except (ValueError, TypeError) as exc:
        raise Eip712Error(f"{what} is not a hex address: {value!r}") from exc
    if len(raw) != 20:
        raise Eip712Error(f"{what} must be 20 bytes, got {len(raw)}")
    return to_checksum_address(raw)


def _fixed(value: bytes, length: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != length:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise Eip712Error(f"{what} must be {length} bytes, got {size}")
    return bytes(value)


@dataclass(frozen=True)
class Eip712Domain:
    """The EIP-712 domain of one registry contract on one chain."""

    name: str
    chain_id: int
    verifying_contract: str
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        if not 0 <= self.chain_id < 2**256:
            raise Eip712Error(f"chain id out of range: {self.chain_id}")
        object.__setattr__(
            self, "verifying_contract", _address(self.verifying_contract, "verifying contract")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def validator_registry_domain(chain_id: int, verifying_contract: bytes | str) -> Eip712Domain:
    return Eip712Domain(VALIDATOR_REGISTRY_NAME, chain_id, _address(verifying_contract, "contract"))


def operator_registry_domain(chain_id: int, verifying_contract: bytes | str) -> Eip712Domain:
    return Eip712Domain(OPERATOR_REGISTRY_NAME, chain_id, _address(verifying_contract, "contract"))


@dataclass(frozen=True)
class ValidatorRegistration:
    """What every cluster member signs when registering a DKG-generated validator.

    `public_shares` are the n 48-byte public key shares in member order; the message carries
    them concatenated, as the contract stores them.
    """

    validator_id: int
    pubkey: bytes
    public_shares: tuple[bytes, ...]
    deposit_signature: bytes
    deposit_data_root: bytes

    primary_type = "ValidatorRegistration"
    fields = VALIDATOR_REGISTRATION_FIELDS

    def __post_init__(self) -> None:
        if not isinstance(self.validator_id, int) or not 0 <= self.validator_id < 2**256:
            raise Eip712Error(f"validator id must be a uint256, got {self.validator_id!r}")
        _fixed(self.pubkey, 48, "pubkey")
        if not isinstance(self.public_shares, Sequence) or not self.public_shares:
            raise Eip712Error("public_shares must be a non-empty sequence of 48-byte keys")
        for i, share in enumerate(self.public_shares):
            _fixed(share, 48, f"public share {i}")
        object.__setattr__(self, "public_shares", tuple(bytes(s) for s in self.public_shares))
        _fixed(self.deposit_signature, 96, "deposit signature")
        _fixed(self.deposit_data_root, 32, "deposit data root")

    def as_dict(self) -> dict[str, Any]:
        return {
            "validatorId": self.validator_id,
            "pubkey": self.pubkey,
            "publicShares": b"".join(self.public_shares),
            "depositSignature": self.deposit_signature,
            "depositDataRoot": self.deposit_data_root,
        }


@dataclass(frozen=True)
class NodeKeyBinding:
    """Signed by a node key: "this key belongs to `operator`"."""

    operator: str

    primary_type = "NodeKeyBinding"
    fields = NODE_KEY_BINDING_FIELDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "operator", _address(self.operator, "operator"))

    def as_dict(self) -> dict[str, Any]:
        return {"operator": self.operator}


TypedMessage = ValidatorRegistration | NodeKeyBinding


def typed_data(domain: Eip712Domain, message: TypedMessage) -> dict[str, Any]:
    """The full EIP-712 JSON object (what `eth_signTypedData_v4` takes)."""
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, message.primary_type: message.fields},
        "primaryType": message.primary_type,
        "domain": domain.as_dict(),
        "message": message.as_dict(),
    }


def digest(domain: Eip712Domain, message: TypedMessage) -> bytes:
    """keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)): the 32 bytes signed."""
    signable = encode_typed_data(full_message=typed_data(domain, message))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(node_key: NodeKey, domain: Eip712Domain, message: TypedMessage) -> bytes:
    """The node key's 65-byte r‖s‖v signature of the typed message."""
    return node_key.sign_hash(digest(domain, message))


def recover(domain: Eip712Domain, message: TypedMessage, signature: bytes) -> bytes:
    """The 20-byte address that signed `message`, applying the contracts' rules: 65 bytes,
    v ∈ {27, 28}, s ≤ n/2. Raises Eip712Error on any violation."""
    if not isinstance(signature, bytes | bytearray) or len(signature) != 65:
        raise Eip712Error("an EIP-712 signature is 65 bytes r‖s‖v")
    if signature[64] not in (27, 28):
        raise Eip712Error(f"signature v must be 27 or 28, got {signature[64]}")
    s = int.from_bytes(signature[32:64], "big")
    if s == 0 or s > SECP256K1_N // 2:
        raise Eip712Error("signature s is zero or in the upper half of the curve order")
    try:
        return public_key_to_address(recover_public_key(digest(domain, message), bytes(signature)))
    except NodeKeyError as exc:
        raise Eip712Error(f"signature does not recover: {exc}") from exc

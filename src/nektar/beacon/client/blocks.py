"""Block formats by fork: what /eth/v3/validator/blocks returns and /eth/v2/beacon/blocks takes.

From Deneb on, an unblinded block travels as "block contents" (the block with its blobs and
KZG proofs). Electra and Fulu share the Electra `BeaconBlock`; Fulu's proofs are cell proofs,
which changes the list's limit but not its serialization, so one container pair serves both.
Earlier forks are refused with a clear error: Nektar signs Electra formats only.
"""

# No `from __future__ import annotations`: remerkleable reads field annotations as types.

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from remerkleable.byte_arrays import Bytes48, ByteVector
from remerkleable.complex import Container, List

from nektar.beacon.chain.containers import (
    MAX_BLOB_COMMITMENTS_PER_BLOCK,
    BeaconBlock,
    SignedBeaconBlock,
)
from nektar.beacon.client.transport import SSZ, BeaconResponseError, Response
from nektar.beacon.json_codec import decode, decode_ssz, decode_uint

ELECTRA_FORMAT_FORKS = ("electra", "fulu")
BYTES_PER_BLOB = 4096 * 32
CELLS_PER_EXT_BLOB = 128

Blob = ByteVector[BYTES_PER_BLOB]
KZGProof = Bytes48


class BlockContents(Container):
    """beacon-APIs `Electra.BlockContents` (Fulu: same shape, cell proofs)."""

    block: BeaconBlock
    kzg_proofs: List[KZGProof, CELLS_PER_EXT_BLOB * MAX_BLOB_COMMITMENTS_PER_BLOCK]
    blobs: List[Blob, MAX_BLOB_COMMITMENTS_PER_BLOCK]


class SignedBlockContents(Container):
    signed_block: SignedBeaconBlock
    kzg_proofs: List[KZGProof, CELLS_PER_EXT_BLOB * MAX_BLOB_COMMITMENTS_PER_BLOCK]
    blobs: List[Blob, MAX_BLOB_COMMITMENTS_PER_BLOCK]


@dataclass(frozen=True)
class VersionedBlock:
    version: str
    block: SignedBeaconBlock


@dataclass(frozen=True)
class ProducedBlock:
    """An unsigned block from produce-block v3 with the metadata the proposer needs."""

    version: str
    block: BeaconBlock
    blinded: bool
    execution_payload_value: int
    consensus_block_value: int
    kzg_proofs: list[bytes]
    blobs: list[bytes]


def check_fork(version: str) -> None:
    if version not in ELECTRA_FORMAT_FORKS:
        raise BeaconResponseError(
            f"the node is at fork {version!r}; Nektar handles the Electra block format only"
        )


def signed_block_type(version: str) -> type[SignedBeaconBlock]:
    check_fork(version)
    return SignedBeaconBlock


def parse_produced(response: Response) -> ProducedBlock:
    """Parse a produce-block v3 answer, JSON or SSZ (metadata then come in headers)."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.content_type == SSZ:
        version = headers.get("eth-consensus-version", "").lower()
        blinded_text = headers.get("eth-execution-payload-blinded", "false").lower()
        meta: dict[str, Any] = {
            "execution_payload_blinded": blinded_text == "true",
            "execution_payload_value": headers.get("eth-execution-payload-value", "0"),
            "consensus_block_value": headers.get("eth-consensus-block-value", "0"),
        }
    else:
        body = response.body
        if not isinstance(body, dict):
            raise BeaconResponseError("produce block: response is not an object")
        version = str(body.get("version", headers.get("eth-consensus-version", ""))).lower()
        meta = body
    check_fork(version)
    if meta.get("execution_payload_blinded") is True:
        raise BeaconResponseError("produce block: blinded blocks (builder payloads) unsupported")
    if response.content_type == SSZ:
        contents = decode_ssz(BlockContents, response.body, "body")
    else:
        contents = decode(BlockContents, meta.get("data"), "data")
    return ProducedBlock(
        version=version,
        block=contents.block,
        blinded=False,
        execution_payload_value=decode_uint(
            meta.get("execution_payload_value"), 256, "execution_payload_value"
        ),
        consensus_block_value=decode_uint(
            meta.get("consensus_block_value"), 256, "consensus_block_value"
        ),
        kzg_proofs=[bytes(p) for p in contents.kzg_proofs],
        blobs=[bytes(b) for b in contents.blobs],
    )


def publish_contents(
    signed: SignedBeaconBlock,
    version: str,
    kzg_proofs: Sequence[bytes] = (),
    blobs: Sequence[bytes] = (),
) -> SignedBlockContents:
    """What POST /eth/v2/beacon/blocks takes from Deneb on: the block with blobs and proofs."""
    check_fork(version)
    return SignedBlockContents(
        signed_block=signed,
        kzg_proofs=[KZGProof(p) for p in kzg_proofs],
        blobs=[Blob(b) for b in blobs],
    )

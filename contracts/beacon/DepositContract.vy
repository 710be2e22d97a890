# pragma version ~=0.4.3
"""
@title Beacon-chain deposit contract (devnet implementation)
@notice Behaves like the canonical phase-0 deposit contract: same ABI, same `DepositEvent`,
        same checks and revert reasons, same incremental Merkle tree of `DepositData` roots
        (depth 32, count mixed in), and ERC-165. Real chains use the canonical deployment;
        devnets deploy this one so that the embedded beacon chain can follow its logs.
@dev Inputs are accepted up to twice their exact size so that a wrong length reverts with a
     named reason instead of an anonymous ABI-decoding failure.
"""

event DepositEvent:
    pubkey: Bytes[48]
    withdrawal_credentials: Bytes[32]
    amount: Bytes[8]
    signature: Bytes[96]
    index: Bytes[8]


TREE_DEPTH: constant(uint256) = 32
MAX_DEPOSIT_COUNT: constant(uint256) = 2**TREE_DEPTH - 1
PUBKEY_LENGTH: constant(uint256) = 48
CREDENTIALS_LENGTH: constant(uint256) = 32
SIGNATURE_LENGTH: constant(uint256) = 96
GWEI_IN_WEI: constant(uint256) = 10**9
MIN_DEPOSIT: constant(uint256) = 10**18

# type(IERC165).interfaceId and the XOR of the three deposit-interface selectors:
# deposit(bytes,bytes,bytes,bytes32) ^ get_deposit_root() ^ get_deposit_count().
ERC165_INTERFACE_ID: constant(bytes4) = 0x01ffc9a7
DEPOSIT_INTERFACE_ID: constant(bytes4) = 0x85640907

# branch[h] holds the root of the left sibling subtree at height h still waiting for its pair.
branch: bytes32[TREE_DEPTH]
deposit_count: uint256


@internal
@pure
def _to_little_endian_64(number: uint256) -> Bytes[8]:
    """@dev SSZ encodes uint64 little-endian; the event and the root mix-in use that form."""
    reversed_value: uint256 = 0
    rest: uint256 = number
    for _: uint256 in range(8):
        reversed_value = (reversed_value << 8) | (rest & 255)
        rest = rest >> 8
    return slice(convert(reversed_value, bytes32), 24, 8)


@internal
@pure
def _deposit_data_root(
    pubkey: Bytes[48], withdrawal_credentials: bytes32, amount: Bytes[8], signature: Bytes[96]
) -> bytes32:
    """@dev hash_tree_root(DepositData): the four fields padded to 32-byte chunks."""
    pubkey_root: bytes32 = sha256(concat(pubkey, empty(bytes16)))
    signature_root: bytes32 = sha256(
        concat(
            sha256(slice(signature, 0, 64)),
            sha256(concat(slice(signature, 64, 32), empty(bytes32))),
        )
    )
    return sha256(
        concat(
            sha256(concat(pubkey_root, withdrawal_credentials)),
            sha256(concat(amount, empty(bytes24), signature_root)),
        )
    )


@external
@view
def get_deposit_root() -> bytes32:
    """
    @notice Root of the deposit tree with the deposit count mixed in (SSZ List root).
    @dev Zero-subtree roots are recomputed on the fly: a few SHA-256 precompile calls are
         cheaper than 32 cold storage reads.
    """
    node: bytes32 = empty(bytes32)
    zero: bytes32 = empty(bytes32)
    size: uint256 = self.deposit_count
    for height: uint256 in range(TREE_DEPTH):
        if size & 1 == 1:
            node = sha256(concat(self.branch[height], node))
        else:
            node = sha256(concat(node, zero))
        zero = sha256(concat(zero, zero))
        size = size >> 1
    return sha256(concat(node, self._to_little_endian_64(self.deposit_count), empty(bytes24)))


@external
@view
def get_deposit_count() -> Bytes[8]:
    """@notice Number of deposits so far, as 8 little-endian bytes (canonical interface)."""
    return self._to_little_endian_64(self.deposit_count)


@external
@payable
def deposit(
    pubkey: Bytes[96],
    withdrawal_credentials: Bytes[64],
    signature: Bytes[192],
    deposit_data_root: bytes32,
):
    """
    @notice Submit a DepositData; `msg.value` is the amount.
    @param deposit_data_root hash_tree_root of the DepositData, checked against the inputs so
           that a malformed deposit fails here instead of being lost on the beacon chain.
    """
    assert len(pubkey) == PUBKEY_LENGTH, "DepositContract: invalid pubkey length"
    assert (
        len(withdrawal_credentials) == CREDENTIALS_LENGTH
    ), "DepositContract: invalid withdrawal_credentials length"
    assert len(signature) == SIGNATURE_LENGTH, "DepositContract: invalid signature length"
    assert msg.value >= MIN_DEPOSIT, "DepositContract: deposit value too low"
    assert msg.value % GWEI_IN_WEI == 0, "DepositContract: deposit value not multiple of gwei"
    amount_gwei: uint256 = msg.value // GWEI_IN_WEI
    assert amount_gwei <= convert(max_value(uint64), uint256), "DepositContract: deposit value too high"

    key: Bytes[48] = slice(pubkey, 0, 48)
    credentials: bytes32 = extract32(withdrawal_credentials, 0)
    sig: Bytes[96] = slice(signature, 0, 96)
    amount: Bytes[8] = self._to_little_endian_64(amount_gwei)

    node: bytes32 = self._deposit_data_root(key, credentials, amount, sig)
    assert (
        node == deposit_data_root
    ), "DepositContract: reconstructed DepositData does not match supplied deposit_data_root"

    index: uint256 = self.deposit_count
    assert index < MAX_DEPOSIT_COUNT, "DepositContract: merkle tree full"
    log DepositEvent(
        pubkey=key,
        withdrawal_credentials=slice(withdrawal_credentials, 0, 32),
        amount=amount,
        signature=sig,
        index=self._to_little_endian_64(index),
    )

    # Insert the leaf: climb while the current position is a right child, hashing with the
    # stored left siblings, and park the result at the first height where it is a left child.
    size: uint256 = index + 1
    self.deposit_count = size
    for height: uint256 in range(TREE_DEPTH):
        if size & 1 == 1:
            self.branch[height] = node
            return
        node = sha256(concat(self.branch[height], node))
        size = size >> 1
    # Unreachable while deposit_count < 2**32 - 1.
    raise "DepositContract: merkle tree full"


@external
@pure
def supportsInterface(interface_id: bytes4) -> bool:
    """@notice ERC-165: this contract implements ERC-165 and the deposit interface."""
    return interface_id == ERC165_INTERFACE_ID or interface_id == DEPOSIT_INTERFACE_ID

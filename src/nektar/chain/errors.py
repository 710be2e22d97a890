"""Typed failures of the chain layer: every failure a caller can act on has its own class."""

from __future__ import annotations

from eth_abi import decode as abi_decode

ERROR_SELECTOR = bytes.fromhex(
    "08c379a0"
)  # Error(string): `assert cond, "reason"`, `raise "reason"`
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256): Solidity-style internal errors


class ChainError(Exception):
    """Base class of everything `nektar.chain` raises."""


class CompileError(ChainError):
    """A contract failed to compile (the message is the compiler's)."""


class AbiError(ChainError, ValueError):
    """A call does not fit the contract's ABI: unknown function, wrong arguments, bad data."""


class NodeError(ChainError):
    """The node refused a request or could not be reached (not an EVM revert)."""


class TransactionReverted(ChainError):
    """The EVM reverted a call or transaction.

    `reason` is the named reason (the string of `Error(string)`), or None when the revert
    carried no reason; `data` is the raw revert data, for custom errors.
    """

    def __init__(self, action: str, data: bytes) -> None:
        self.action = action
        self.data = data
        self.reason = decode_revert_reason(data)
        shown = self.reason if self.reason is not None else f"no reason (data 0x{data.hex()})"
        super().__init__(f"{action} reverted: {shown}")


def decode_revert_reason(data: bytes) -> str | None:
    """The human-readable reason inside revert data, if the data carries one."""
    try:
        if data[:4] == ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], data[4:])
            return str(reason)
        if data[:4] == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], data[4:])
            return f"panic 0x{code:02x}"
    except Exception:  # malformed revert data: report it raw rather than fail twice
        return None
    return None

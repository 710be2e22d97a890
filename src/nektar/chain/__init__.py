"""On-chain protocol access: the only Python that knows contract ABIs (DESIGN.md §2).

One API over two backends — `InProcessBackend` (py-evm via titanoboa) and `JsonRpcBackend`
(any node; `nektar.chain.anvil` starts a local anvil) — see docs/chain.md.
"""

from nektar.chain.abi import ContractAbi
from nektar.chain.accounts import dev_account
from nektar.chain.backend import Backend, EventWatcher
from nektar.chain.compiler import Artifact, compile_contract
from nektar.chain.contract import Contract
from nektar.chain.errors import (
    AbiError,
    ChainError,
    CompileError,
    NodeError,
    TransactionReverted,
)
from nektar.chain.inprocess import InProcessBackend
from nektar.chain.jsonrpc import JsonRpcBackend
from nektar.chain.types import Event, Log, Receipt

__all__ = [
    "AbiError",
    "Artifact",
    "Backend",
    "ChainError",
    "CompileError",
    "Contract",
    "ContractAbi",
    "Event",
    "EventWatcher",
    "InProcessBackend",
    "JsonRpcBackend",
    "Log",
    "NodeError",
    "Receipt",
    "TransactionReverted",
    "compile_contract",
    "dev_account",
]

"""`ChainServices`: the node's reactions to the Diva contracts, assembled for a `StingerNode`.

Given the ValidatorRegistry's address (every other protocol address is read from the
contracts) and the EVM JSON-RPC URL of the node's settings, it runs with the node:

- `ChainWatcher` (cursor in the data directory) feeding
- `DkgEngine` (on the node's P2P host and `ClusterStore`: a registered validator is served
  from the next slot, no restart),
- `OracleReporter` (on the node's beacon client),
- `LifecycleService` (activation, ejection exit requests, exits through `StingerNode.exit`).

Transactions (acknowledge, register, votes, submit, activate, fail) are sent from the node
key's own Ethereum account, which therefore needs ETH for gas. NativePod validators
(`propose_for_pod`) arrive as the same `ValidatorProposed` and are served by the same services
(docs/stinger-chain.md, "Pod validators").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.deposit import DepositContract
from nektar.chain.diva import (
    DivaLst,
    DivEther,
    StakingPool,
    WithdrawalQueue,
    WithdrawalVault,
    WrappedDivEther,
)
from nektar.chain.diva_ops import (
    DivaSystem,
    OperatorOracle,
    OperatorRegistry,
    ProposedValidator,
    ValidatorRegistry,
)
from nektar.chain.jsonrpc import JsonRpcBackend
from nektar.stinger.dkg_engine import DkgEngine, DkgSchedule
from nektar.stinger.lifecycle import LifecycleService
from nektar.stinger.oracle import OracleReporter
from nektar.stinger.watcher import ChainWatcher

if TYPE_CHECKING:
    from nektar.stinger.node import StingerNode

log = logging.getLogger("nektar.stinger.chain")

EXIT_TIMEOUT = 8.0


def connect_diva_system(backend: Backend, validator_registry: str) -> DivaSystem:
    """The deployed protocol, found from the ValidatorRegistry's address alone."""

    def at(name: str, address: str):
        return backend.at(compile_contract(f"diva/{name}.vy"), address)

    validators = at("ValidatorRegistry", validator_registry)
    pool = at("StakingPool", validators.call("POOL"))
    operators = at("OperatorRegistry", validators.call("OPERATORS"))
    lst = DivaLst(
        backend=backend,
        admin=None,  # type: ignore[arg-type]  # a node never administers the protocol
        pool=StakingPool(pool),
        token=DivEther(at("DivEther", pool.call("token"))),
        queue=WithdrawalQueue(at("WithdrawalQueue", pool.call("withdrawal_queue"))),
        vault=WithdrawalVault(at("WithdrawalVault", pool.call("withdrawal_vault"))),
        wrapper=WrappedDivEther(at("WrappedDivEther", operators.call("WRAPPER"))),
    )
    deposit = backend.at(
        compile_contract("beacon/DepositContract.vy"), validators.call("DEPOSIT_CONTRACT")
    )
    return DivaSystem(
        lst=lst,
        deposit_contract=DepositContract(deposit),
        operators=OperatorRegistry(operators),
        validators=ValidatorRegistry(validators),
        oracle=OperatorOracle(at("OperatorOracle", validators.call("oracle"))),
    )


class ChainServices:
    """Watcher, DKG engine, oracle reporter and lifecycle service of one node."""

    def __init__(
        self,
        node: StingerNode,
        validator_registry: str,
        schedule: DkgSchedule | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        raw = validator_registry.removeprefix("0x")
        if len(raw) != 40 or any(c not in "0123456789abcdefABCDEF" for c in raw):
            raise ValueError(
                f"validator_registry {validator_registry!r} is not a 0x-prefixed 20-byte address"
            )
        self.node = node
        self.validator_registry = validator_registry
        self.schedule = schedule or DkgSchedule()
        self.poll_interval = poll_interval
        self.system: DivaSystem | None = None
        self.watcher: ChainWatcher | None = None
        self.engine: DkgEngine | None = None
        self.reporter: OracleReporter | None = None
        self.lifecycle: LifecycleService | None = None

    async def _exit(self, pubkey: bytes) -> bool:
        done, _ = await self.node.exit(pubkey, None, EXIT_TIMEOUT)
        return done

    async def start(self) -> None:
        """Called by the node once its beacon node, P2P host and workflow are up."""
        node = self.node
        url = node.settings.chain
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"chain services need an EVM JSON-RPC URL in `chain`, got {url!r} (another "
                "process's in-process EVM cannot be shared)"
            )
        backend = JsonRpcBackend(url, accounts=[], fund_dev_accounts=False)
        system = self.system = connect_diva_system(backend, self.validator_registry)
        assert node.chain is not None  # the node connected to its beacon node first
        self.watcher = ChainWatcher(
            system.validators, system.operators, node.datadir.root, self.poll_interval
        )
        self.engine = DkgEngine(
            node.host,
            node.key,
            system.validators,
            node.clusters,
            node.chain.genesis_fork_version,
            endpoints=node.settings.peer_overrides(),
            schedule=self.schedule,
        )
        self.reporter = OracleReporter(system, node.client, node.key)
        self.lifecycle = LifecycleService(system.validators, node.clusters, node.key, self._exit)
        engine = self.engine
        self.watcher.subscribe(
            "ValidatorProposed", lambda e: engine.on_proposed(ProposedValidator.from_event(e))
        )
        self.lifecycle.attach(self.watcher)
        await engine.start()
        await self.reporter.start()
        await self.watcher.start()
        log.info("chain services on %s (ValidatorRegistry %s)", url, self.validator_registry)

    async def stop(self) -> None:
        for service in (self.watcher, self.reporter, self.lifecycle, self.engine):
            if service is not None:
                await service.stop()

"""`LifecycleService`: the node's reactions to its validators' lifecycle events.

- `CredentialsConfirmed` for a validator of this node's clusters → `activate` (the 31 ETH):
  member 1 first, member i after `(i − 1) × stagger`, each checking the registry first so
  one transaction lands. The call re-sends the registered pubkey and deposit signature read
  from `ValidatorRegistered` (the beacon chain ignores a top-up's signature; the contract
  checks they are the registered ones).
- `ExitRequested` (by the oracle report or by ejection) for a validator of this node's
  clusters → the node's threshold-signed voluntary exit (`StingerNode.exit`), retried until
  it succeeds (the exit epoch may not have been reached yet) or `exit_attempts` run out.
- `StatusChanged` to EJECTED for a member of one of this node's ACTIVATED validators →
  `request_exit_for_ejection` (staggered the same way), which emits `ExitRequested`.

A NativePod's validators take the same path, with nothing pod-specific here: `activate` makes
the registry deposit the 31 ETH the pod paid, and the pod's `request_pod_exit` emits the same
`ExitRequested`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from eth_account import Account
from eth_account.signers.local import LocalAccount

from nektar.beacon.client.api import BeaconAPIError
from nektar.chain.diva_ops import ValidatorRegistry
from nektar.chain.errors import ChainError, TransactionReverted
from nektar.chain.types import Event
from nektar.crypto.node_key import NodeKey
from nektar.stinger.datadir import ClusterStore
from nektar.stinger.watcher import ChainWatcher

log = logging.getLogger("nektar.stinger.lifecycle")

REGISTERED, ACTIVATED = 2, 3
STATUS_EJECTED = 3

ExitFunction = Callable[[bytes], Awaitable[bool]]


class LifecycleService:
    """Activation, exit requests and ejections for this node's validators."""

    def __init__(
        self,
        registry: ValidatorRegistry,
        clusters: ClusterStore,
        node_key: NodeKey,
        exit_validator: ExitFunction | None = None,
        *,
        account: LocalAccount | None = None,
        stagger: float = 2.0,
        exit_retry: float = 4.0,
        exit_attempts: int = 30,
    ) -> None:
        self.registry = registry
        self.clusters = clusters
        self.exit_validator = exit_validator
        self.account = account or Account.from_key(node_key.secret)
        self.stagger = stagger
        self.exit_retry = exit_retry
        self.exit_attempts = exit_attempts
        self.registered: dict[int, tuple[bytes, bytes]] = {}  # id → (pubkey, deposit signature)
        self.exits_done: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        for event in registry.contract.events("ValidatorRegistered"):
            self._on_registered(event)

    def attach(self, watcher: ChainWatcher) -> None:
        watcher.subscribe("ValidatorRegistered", self._on_registered)
        watcher.subscribe("CredentialsConfirmed", self._on_confirmed)
        watcher.subscribe("ExitRequested", self._on_exit_requested)
        watcher.subscribe("StatusChanged", self._on_status_changed)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _my_index(self, validator_id: int) -> int | None:
        """This node's member index in the validator's cluster, None if it is not ours."""
        known = self.registered.get(validator_id)
        validator = self.clusters.validators.get(known[0]) if known else None
        return validator.definition.my_index if validator else None

    # ------------------------------------------------------------------ events
    def _on_registered(self, event: Event) -> None:
        self.registered[int(event["validator_id"])] = (
            bytes(event["pubkey"]),
            bytes(event["deposit_signature"]),
        )

    def _on_confirmed(self, event: Event) -> None:
        vid = int(event["validator_id"])
        index = self._my_index(vid)
        if index is not None:
            self._spawn(self._activate(vid, index))

    def _on_exit_requested(self, event: Event) -> None:
        vid = int(event["validator_id"])
        if self._my_index(vid) is not None and self.exit_validator is not None:
            self._spawn(self._exit(vid))

    def _on_status_changed(self, event: Event) -> None:
        if int(event["status"]) != STATUS_EJECTED:
            return
        ejected = int(event["operator_id"])
        for vid in list(self.registered):
            index = self._my_index(vid)
            if index is None:
                continue
            info = self.registry.validator(vid)
            if info.status == ACTIVATED and ejected in info.operator_ids:
                self._spawn(self._request_exit(vid, index))

    # ------------------------------------------------------------------ actions
    async def _activate(self, vid: int, index: int) -> None:
        await asyncio.sleep((index - 1) * self.stagger)
        info = self.registry.validator(vid)
        if info.status != REGISTERED or not info.confirmed:
            return
        pubkey, signature = self.registered[vid]
        try:
            self.registry.contract.transact("activate", vid, pubkey, signature, sender=self.account)
            log.info("validator %d activated (31 ETH deposited)", vid)
        except TransactionReverted as exc:
            log.info("validator %d: activate not needed: %s", vid, exc)

    async def _request_exit(self, vid: int, index: int) -> None:
        await asyncio.sleep((index - 1) * self.stagger)
        if self.registry.validator(vid).status != ACTIVATED:
            return
        try:
            self.registry.contract.transact("request_exit_for_ejection", vid, sender=self.account)
            log.info("validator %d: exit requested because a member was ejected", vid)
        except TransactionReverted as exc:
            log.info("validator %d: exit request not needed: %s", vid, exc)

    async def _exit(self, vid: int) -> None:
        assert self.exit_validator is not None
        pubkey = self.registered[vid][0]
        for attempt in range(self.exit_attempts):
            try:
                if await self.exit_validator(pubkey):
                    self.exits_done.add(vid)
                    log.info("validator %d: voluntary exit broadcast", vid)
                    return
            except (ValueError, ChainError, OSError, BeaconAPIError) as exc:
                log.info("validator %d: exit attempt %d failed: %s", vid, attempt, exc)
            await asyncio.sleep(self.exit_retry)
        log.warning("validator %d: voluntary exit not done after %d attempts", vid, attempt + 1)

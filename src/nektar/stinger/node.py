"""`StingerNode`: one operator's node, its services wired together.

The node owns the data directory (node key, cluster definitions, shares, slashing protection,
duty store), the P2P host, the beacon client, the duty workflow and the HTTP API. Other
services (the DKG engine, the chain watcher, the oracle reporter) plug in through
`node.clusters.add(...)` (a new validator is served from the next slot on, its members are
added to the P2P allow-list) and `node.add_service(...)` (started and stopped with the node).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.crypto.networks import ChainConfig
from nektar.crypto.slashing_protection import SlashingProtectionDB
from nektar.p2p import Host
from nektar.stinger import api
from nektar.stinger.aggregator import Aggregator
from nektar.stinger.broadcaster import Broadcaster
from nektar.stinger.chain_services import ChainServices
from nektar.stinger.chaininfo import SlotClock, fetch_chain
from nektar.stinger.config import StingerSettings
from nektar.stinger.consensus import ConsensusService
from nektar.stinger.datadir import ClusterStore, DataDir, Validator
from nektar.stinger.dutystore import DutyStore
from nektar.stinger.fetcher import Fetcher, HeadTracker
from nektar.stinger.metrics import Metrics
from nektar.stinger.parsigex import ParSigEx
from nektar.stinger.remotesigner import RemoteSigner
from nektar.stinger.scheduler import Scheduler
from nektar.stinger.signer import Signer
from nektar.stinger.workflow import Workflow, committee_of

log = logging.getLogger("nektar.stinger.node")

Service = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]  # start, stop


class StingerNode:
    def __init__(self, settings: StingerSettings) -> None:
        self.settings = settings
        self.datadir = DataDir(settings.data_path, settings.node_key_file, settings.password_file)
        self.datadir.require()
        self.key = self.datadir.load_node_key()
        self.address = self.key.address
        self.clusters = ClusterStore(self.datadir)
        self.clusters.load()
        self.metrics = Metrics()
        self.client = BeaconClient(settings.beacon_urls, timeout=settings.beacon_timeout)
        self.host = Host(
            self.key,
            listen_host=settings.p2p_host,
            listen_port=settings.p2p_port,
            registry=self.metrics.registry,
        )
        self.clusters.subscribe(self._on_validator)
        self._services: list[Service] = []
        self.chain_services: ChainServices | None = None
        if settings.validator_registry is not None:
            self.chain_services = ChainServices(self, settings.validator_registry)
            self.add_service(self.chain_services.start, self.chain_services.stop)
        self._runners: list[web.AppRunner] = []
        self._task: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.chain: ChainConfig | None = None
        self.clock: SlotClock | None = None
        self.workflow: Workflow | None = None
        self.scheduler: Scheduler | None = None
        self.remote_signer: RemoteSigner | None = None
        self.heads = HeadTracker(self.client) if settings.head_events else None
        self._closables: list[Any] = []
        self.started_at = time.time()

    # ------------------------------------------------------------------ membership
    def _on_validator(self, validator: Validator) -> None:
        """A validator appeared (start or DKG): allow its members and know where they are."""
        overrides = self.settings.peer_overrides()
        allowed = set(self.host.allowed)
        for member in validator.definition.members:
            address = member.node_address
            if address == self.address:
                continue
            allowed.add(address)
            endpoint = overrides.get(address)
            if endpoint is None and member.port:
                endpoint = (member.host, member.port)
            if endpoint is not None:
                self.host.set_peer_address(address, *endpoint)
        self.host.set_allowed(allowed)
        if self.workflow is not None:
            self.workflow.consensus.add_committee(committee_of(validator))
        self.metrics.validators.set(len(self.clusters.validators))

    def add_service(
        self, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
    ) -> None:
        """Run another service (DKG engine, watcher, oracle) with the node's lifetime."""
        self._services.append((start, stop))

    # ------------------------------------------------------------------ lifecycle
    async def _connect_beacon(self) -> tuple[ChainConfig, float]:
        delay = 0.5
        while True:
            try:
                return await fetch_chain(self.client)
            except BeaconAPIError as exc:
                log.warning("beacon node not reachable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def start(self) -> None:
        chain, slot_duration = await self._connect_beacon()
        self.chain = chain
        self.clock = SlotClock(chain.genesis_time, slot_duration, chain.slots_per_epoch)
        protection = SlashingProtectionDB(self.datadir.slashing_db, chain.genesis_validators_root)
        dutystore = DutyStore(self.datadir.duty_db)
        self._closables += [protection, dutystore]
        aggregator = Aggregator()
        parsigex = ParSigEx(
            self.host,
            self.clusters.validators.get,
            aggregator,
            self.metrics,
            self.settings.fault,
        )
        consensus = ConsensusService(
            self.host,
            self.key,
            self.metrics,
            round_timeout=max(0.25, slot_duration / 2),
            faults=self.settings.fault,
        )
        self.workflow = Workflow(
            clock=self.clock,
            fetcher=Fetcher(self.client, self.metrics),
            consensus=consensus,
            dutystore=dutystore,
            signer=Signer(chain, protection, self.metrics),
            parsigex=parsigex,
            aggregator=aggregator,
            broadcaster=Broadcaster(self.client, self.metrics),
            metrics=self.metrics,
        )
        self.remote_signer = RemoteSigner(
            self.clusters.validators.get,
            lambda: list(self.clusters.validators),
            protection,
            parsigex,
            aggregator,
            chain.slots_per_epoch,
            timeout=2 * slot_duration,
        )
        for validator in self.clusters.validators.values():
            self._on_validator(validator)
        self.scheduler = Scheduler(
            self.client,
            self.clock,
            self.clusters,
            self.workflow,
            on_slot=self._on_slot,
            sync_contributions=self.settings.sync_contributions,
            heads=self.heads,
            sync_messages=self.settings.sync_messages,
        )
        await self.host.start()
        self.ports["p2p"] = self.host.listen_address[1]
        runner, self.ports["api"] = await api.serve(
            api.status_app(self), self.settings.api_host, self.settings.api_port
        )
        self._runners.append(runner)
        if self.settings.metrics_port is not None:
            runner, self.ports["metrics"] = await api.serve(
                api.metrics_app(self), self.settings.api_host, self.settings.metrics_port
            )
            self._runners.append(runner)
        self._write_run_file()
        for start, _ in self._services:
            await start()
        if self.heads is not None:
            self.heads.start()
        self._task = asyncio.create_task(self.scheduler.run())
        log.info(
            "stinger node 0x%s serving %d validator(s); p2p %s:%d, api %s:%d",
            self.address.hex(),
            len(self.clusters.validators),
            self.settings.p2p_host,
            self.ports["p2p"],
            self.settings.api_host,
            self.ports["api"],
        )

    def _write_run_file(self) -> None:
        """`<data_dir>/run.json`: the bound ports, so `stinger status` (and tests) find us."""
        info = {"pid": os.getpid(), "address": "0x" + self.address.hex(), "ports": self.ports}
        info["api_url"] = f"http://{self.settings.api_host}:{self.ports['api']}"
        path = self.datadir.root / "run.json"
        tmp = path.with_name(".run.json.tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, path)

    async def stop(self) -> None:
        for _, stop in reversed(self._services):
            await stop()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.heads is not None:
            await self.heads.stop()
        for runner in self._runners:
            await runner.cleanup()
        await self.host.stop()
        await self.client.close()
        for closable in self._closables:
            closable.close()
        (self.datadir.root / "run.json").unlink(missing_ok=True)

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        await self.start()
        try:
            await stop_event.wait()
        finally:
            await self.stop()

    # ------------------------------------------------------------------ per slot
    async def _on_slot(self, slot: int) -> None:
        members = {
            m for v in self.clusters.validators.values() for m in v.definition.member_addresses
        }
        connected = [p for p in self.host.peers() if p in members]
        self.metrics.peers_connected.set(len(connected))
        assert self.clock is not None
        if slot % self.clock.slots_per_epoch == 0:
            try:
                report = await self.client.clock()
                if report.date_offset is not None:
                    self.metrics.clock_offset.set(-report.date_offset)
            except BeaconAPIError:
                pass

    # ------------------------------------------------------------------ actions
    async def exit(self, pubkey: bytes, epoch: int | None, timeout: float) -> tuple[bool, int]:
        """Threshold-sign and submit a voluntary exit. Without `epoch`, every operator derives
        the same one: the first epoch at which the validator may exit (activation epoch +
        SHARD_COMMITTEE_PERIOD), so their partial signatures combine."""
        validator = self.clusters.validators.get(pubkey)
        if validator is None:
            raise ValueError(f"0x{pubkey.hex()} is not a validator of this node's clusters")
        if self.workflow is None:
            raise ValueError("the node has not started yet")
        if epoch is None:
            info = await self.client.validator(pubkey)
            spec = await self.client.spec()
            period = int(spec.get("SHARD_COMMITTEE_PERIOD", 256))
            epoch = int(info.validator.activation_epoch) + period
        if validator.index is None:
            info = await self.client.validator(pubkey)
            self.clusters.set_validator_index(pubkey, info.index)
        return await self.workflow.exit(validator, epoch, timeout), epoch

    def status(self) -> dict[str, Any]:
        clock = self.clock
        slot = clock.current_slot() if clock else None
        return {
            "address": "0x" + self.address.hex(),
            "uptime_s": round(time.time() - self.started_at, 1),
            "slot": slot,
            "epoch": clock.epoch(slot) if clock and slot is not None else None,
            "beacon_urls": self.settings.beacon_urls,
            "ports": self.ports,
            "peers": ["0x" + p.hex() for p in self.host.peers()],
            "validators": [
                {
                    "pubkey": "0x" + v.pubkey.hex(),
                    "index": v.index,
                    "n": v.definition.n,
                    "t": v.definition.threshold,
                    "share_index": v.definition.my_index,
                }
                for v in self.clusters.validators.values()
            ],
            "recent_duties": [vars(o) for o in (self.workflow.recent if self.workflow else [])],
        }

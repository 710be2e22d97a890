"""Aggregator stage: t valid partials → Lagrange interpolation → verified group signature.

Partials arrive already verified (ours, or checked by parsigex against the sender's public
share) and are grouped by (duty, validator, signing root): members that signed something
else can never be mixed in. As soon as a group reaches the validator's threshold it is
combined and checked against the group public key (one batch verification for every group
a message completed); the result resolves whoever waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from nektar.crypto import threshold
from nektar.stinger.datadir import Validator
from nektar.stinger.duties import Duty, DutyType

log = logging.getLogger("nektar.stinger.aggregator")

Key = tuple[Duty, bytes, bytes]  # duty, validator pubkey, signing root
Item = tuple[Validator, bytes, int, bytes]  # validator, root, share index, partial signature


class Aggregator:
    def __init__(self) -> None:
        self._partials: dict[Key, dict[int, bytes]] = {}
        self._validators: dict[Key, Validator] = {}
        self._done: dict[Key, bytes] = {}
        self._waiters: dict[Key, asyncio.Future[bytes]] = {}

    def add(self, duty: Duty, items: Sequence[Item]) -> None:
        """Store partials; combine every group this completes."""
        ready: list[Key] = []
        for validator, root, index, signature in items:
            key = (duty, validator.pubkey, root)
            if key in self._done:
                continue
            group = self._partials.setdefault(key, {})
            group.setdefault(index, signature)
            self._validators[key] = validator
            if len(group) >= validator.definition.threshold and key not in ready:
                ready.append(key)
        if ready:
            self._combine(ready)

    def _combine(self, keys: list[Key]) -> None:
        by_threshold: dict[int, list[Key]] = {}
        for key in keys:
            by_threshold.setdefault(self._validators[key].definition.threshold, []).append(key)
        for t, group in by_threshold.items():
            results = threshold.combine_and_verify_many([self._job(k) for k in group], t)
            for key, result in zip(group, results, strict=True):
                if isinstance(result, bytes):
                    self._finish(key, result)
                else:  # not expected with verified partials: drop the culprits, wait for more
                    log.error("combining %s for 0x%s: %s", key[0], key[1].hex()[:16], result)
                    for index in result.bad_indices:
                        self._partials[key].pop(index, None)

    def _job(self, key: Key) -> threshold.PartialSet:
        _, pubkey, root = key
        definition = self._validators[key].definition
        partials = self._partials[key]
        return threshold.PartialSet(
            message=root,
            group_pubkey=pubkey,
            public_shares={i: definition.public_share(i) for i in partials},
            partials=partials,
        )

    def _finish(self, key: Key, signature: bytes) -> None:
        self._done[key] = signature
        self._partials.pop(key, None)
        waiter = self._waiters.get(key)
        if waiter is not None and not waiter.done():
            waiter.set_result(signature)

    async def collect(
        self, duty: Duty, wanted: Sequence[tuple[bytes, bytes]], timeout: float
    ) -> dict[bytes, bytes]:
        """Group signatures by pubkey for (pubkey, root) pairs (one root per validator),
        those ready within `timeout` seconds."""
        found = await self.collect_pairs(duty, wanted, timeout)
        return {pubkey: signature for (pubkey, _), signature in found.items()}

    async def collect_pairs(
        self, duty: Duty, wanted: Sequence[tuple[bytes, bytes]], timeout: float
    ) -> dict[tuple[bytes, bytes], bytes]:
        """Group signatures by (pubkey, root), for duties where a validator signs several
        messages (sync selection proofs of several subcommittees)."""
        loop = asyncio.get_running_loop()
        futures: dict[tuple[bytes, bytes], asyncio.Future[bytes]] = {}
        for pubkey, root in wanted:
            key = (duty, pubkey, root)
            future = self._waiters.get(key)
            if future is None:
                future = self._waiters[key] = loop.create_future()
                if key in self._done:
                    future.set_result(self._done[key])
            futures[(pubkey, root)] = future
        pending = [f for f in futures.values() if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=max(0.0, timeout))
        return {k: f.result() for k, f in futures.items() if f.done() and not f.cancelled()}

    def prune(self, horizon_slot: int) -> None:
        """Forget duties before `horizon_slot` (exits are kept: operators sign them apart)."""
        for store in (self._partials, self._validators, self._done, self._waiters):
            for key in [
                k for k in store if k[0].slot < horizon_slot and k[0].type != DutyType.EXIT
            ]:
                value = store.pop(key)
                if isinstance(value, asyncio.Future) and not value.done():
                    value.cancel()

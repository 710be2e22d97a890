"""Aggregator stage: t partials → Lagrange interpolation → verified group signature.

Partials arrive decoded (G2 points), ours or from parsigex (which checked the sender on
each message, not every partial), grouped by (duty, validator, signing root): members that
signed something else can never be mixed in. As soon as a group reaches the validator's
threshold it is interpolated from the points (small integer Lagrange weights: a few point
additions, and one multiplication by the common denominator's inverse when it is not 1) and
checked against the group public key, one batch verification for every group a call
completed. A group whose signature fails has each partial checked alone; the bad ones are
dropped and reported (`on_bad`, parsigex logs the sender) and the group waits for another
member's partial. The result resolves whoever waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from nektar.crypto import bls, threshold
from nektar.stinger.datadir import Validator
from nektar.stinger.duties import Duty, DutyType

log = logging.getLogger("nektar.stinger.aggregator")

Key = tuple[Duty, bytes, bytes]  # duty, validator pubkey, signing root
Item = tuple[Validator, bytes, int, bls.G2Point]  # validator, root, share index, partial


def interpolate(partials: Mapping[int, bls.G2Point], t: int) -> bls.G2Point:
    """The group signature from the t lowest-indexed partial signature points (what
    `threshold.combine` computes from bytes; the points here are already decoded)."""
    indices = tuple(sorted(partials))[:t]
    small = threshold.integer_lagrange(indices)
    if small is None:
        weights = threshold.lagrange_coefficients(indices)
        return bls.g2_lincomb([partials[i] for i in indices], [weights[i] for i in indices])
    denominator, integers = small
    signed = zip(indices, integers, strict=True)
    points = [partials[i] if k > 0 else -partials[i] for i, k in signed]
    total = bls.msm(points, [abs(k) for k in integers])
    return total if denominator == 1 else bls.g2_mul(total, pow(denominator, -1, bls.CURVE_ORDER))


Bad = Callable[[Duty, Sequence[tuple[Validator, bytes, int]]], None]  # partials found invalid


class Aggregator:
    def __init__(self) -> None:
        self.on_bad: Bad = _log_bad
        self._partials: dict[Key, dict[int, bls.G2Point]] = {}
        self._validators: dict[Key, Validator] = {}
        self._done: dict[Key, bytes] = {}
        self._waiters: dict[Key, asyncio.Future[bytes]] = {}

    def complete(self, duty: Duty, pubkey: bytes, root: bytes) -> bool:
        """Whether this group signature is already made (later partials need no checking)."""
        return (duty, pubkey, root) in self._done

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
        signatures = [
            interpolate(self._partials[k], self._validators[k].definition.threshold) for k in keys
        ]
        batch = [
            (self._validators[key].group_point, key[2], signature)
            for key, signature in zip(keys, signatures, strict=True)
        ]
        if bls.batch_verify_points(batch):
            for key, signature in zip(keys, signatures, strict=True):
                self._finish(key, signature.compress())
            return
        retry = []
        for key, item in zip(keys, batch, strict=True):
            if bls.batch_verify_points([item]):
                self._finish(key, item[2].compress())
                continue
            validator, root, partials = self._validators[key], key[2], self._partials[key]
            bad = [
                i
                for i, point in partials.items()
                if not bls.batch_verify_points([(validator.share_point(i), root, point)])
            ]
            for index in bad or list(partials):
                partials.pop(index, None)
            self.on_bad(key[0], [(validator, root, i) for i in bad])
            if bad and len(partials) >= validator.definition.threshold:
                retry.append(key)
        if retry:
            self._combine(retry)

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


def _log_bad(duty: Duty, bad: Sequence[tuple[Validator, bytes, int]]) -> None:
    for validator, _, index in bad:
        log.error("bad partial from member %d for %s of 0x%s", index, duty, validator.pubkey.hex())

"""What a four-node DVT cluster does to the server: every member posts the same combined
messages. Copies are answered 200 without decoding; failures keep the request's item
indices; the `head` event of a block reaches a subscriber while the node is still busy."""

from __future__ import annotations

import asyncio
import threading

import pytest
from openapi_core import OpenAPI

from nektar.beacon.client import BeaconHTTPError
from nektar.beacon.server import http
from nektar.crypto import bls
from nektar.crypto.signing import DOMAIN_BEACON_ATTESTER, SingleAttestation, compute_signing_root

from .conftest import SECRET_KEYS, Served
from .openapi_check import validate_request, validate_response


async def _external_attestation(served: Served) -> SingleAttestation:
    """A SingleAttestation of validator 6 or 7 (not managed) for the current slot."""
    node, client = served.node, served.client
    while True:
        slot = node.current_slot()
        duties = await client.attester_duties(slot // 8, [6, 7])
        duty = next((d for d in duties.data if d.slot == slot), None)
        if duty is not None:
            break
        node.advance_slots(1)
    data = await client.attestation_data(slot)
    domain = node.signing_state().domain(DOMAIN_BEACON_ATTESTER, slot // 8)
    signature = bls.sign(
        SECRET_KEYS[duty.validator_index],
        compute_signing_root(data.hash_tree_root(), domain),
    )
    return SingleAttestation(
        committee_index=duty.committee_index,
        attester_index=duty.validator_index,
        data=data,
        signature=signature,
    )


async def test_member_copies_are_answered_without_decoding(
    served: Served, openapi: OpenAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    att = await _external_attestation(served)
    await served.client.submit_attestations([att])  # the first member
    decoded: list[str] = []
    real = http.decode
    monkeypatch.setattr(
        http, "decode", lambda typ, *a: decoded.append(typ.__name__) or real(typ, *a)
    )
    for _ in range(3):  # the other members
        await served.client.submit_attestations([att])
    assert decoded == []
    forged = att.copy()
    forged.signature = bls.sign(SECRET_KEYS[2], b"forged")
    with pytest.raises(BeaconHTTPError) as caught:
        await served.client.submit_attestations([att, forged])
    assert caught.value.status == 400
    assert [f["index"] for f in caught.value.failures] == [1]  # the request's own index
    assert decoded == ["SingleAttestation"]  # only the new item was decoded
    pooled = await served.client.pool_attestations(slot=int(att.data.slot))
    assert any(a.aggregation_bits.count(True) for a in pooled)
    for exchange in served.recorder.exchanges:
        validate_request(openapi, exchange)
        validate_response(openapi, exchange)


async def test_concurrent_member_copies_are_decoded_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    att = await _external_attestation(served)
    decoded: list[str] = []
    real = http.decode

    def counting(typ, *args):  # type: ignore[no-untyped-def]
        decoded.append(typ.__name__)
        return real(typ, *args)

    monkeypatch.setattr(http, "decode", counting)
    await asyncio.gather(*(served.client.submit_attestations([att]) for _ in range(4)))
    assert decoded == ["SingleAttestation"]
    assert served.server.app[http.ACCEPTED_KEY].pending == {}


async def test_head_event_is_sent_while_the_node_is_busy(served: Served) -> None:
    """The node imports a block and then keeps its lock (here: a long step of the clock's
    thread); the subscriber still gets `head` at once, it does not wait for the node."""
    node = served.node
    events = served.client.events(["head"])
    first = asyncio.ensure_future(anext(aiter(events)))
    await asyncio.sleep(0.3)  # subscribed
    release = threading.Event()

    def slot_then_busy() -> None:
        with node._lock:
            node.advance_slots(1)  # a managed proposer imports a block
            release.wait(10)

    worker = threading.Thread(target=slot_then_busy)
    worker.start()
    try:
        event = await asyncio.wait_for(first, 5)
    finally:
        release.set()
        worker.join(10)
        await events.aclose()
    assert event.topic == "head" and event.data.slot == node.current_slot()

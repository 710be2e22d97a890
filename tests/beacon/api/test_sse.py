"""SSE framing: events survive any chunking, line-ending style, comments and retry fields."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from nektar.beacon.client import BeaconResponseError
from nektar.beacon.client.events import parse_event
from nektar.beacon.client.models import HeadEvent
from nektar.beacon.client.sse import SSEMessage, SSEParser

NAMES = st.sampled_from(["head", "block", "attestation", "finalized_checkpoint", "chain_reorg"])
LINE = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30
)


def frame(event: str, data_lines: list[str], newline: str, comment: bool) -> str:
    text = f": keep-alive{newline}" if comment else ""
    text += f"event: {event}{newline}"
    text += "".join(f"data: {line}{newline}" for line in data_lines)
    return text + newline


@given(
    events=st.lists(st.tuples(NAMES, st.lists(LINE, min_size=1, max_size=3)), max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    comment=st.booleans(),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_any_chunking_yields_the_same_events(
    events: list[tuple[str, list[str]]], newline: str, comment: bool, cuts: list[int]
) -> None:
    stream = "".join(frame(e, lines, newline, comment) for e, lines in events).encode()
    bounds = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    parser = SSEParser()
    received: list[SSEMessage] = []
    for start, end in itertools.pairwise(bounds):
        received.extend(parser.feed(stream[start:end]))
    assert [(m.event, m.data) for m in received] == [(e, "\n".join(ls)) for e, ls in events]


def test_fields_without_space_id_retry_and_default_event() -> None:
    parser = SSEParser()
    out = parser.feed(b'retry: 1500\nid: 7\ndata:{"a":1}\n\nevent: x\n\n')
    assert out == [SSEMessage(event="message", data='{"a":1}', id="7")]
    assert parser.retry_ms == 1500  # an event with no data lines is not dispatched
    assert parser.feed(b"retry: soon\ndata: y\n") == []
    assert parser.retry_ms == 1500


@given(st.binary(max_size=300))
def test_garbage_never_raises(data: bytes) -> None:
    SSEParser().feed(data)


TOPICS = st.sampled_from(
    [
        "head",
        "block",
        "finalized_checkpoint",
        "chain_reorg",
        "attestation",
        "single_attestation",
        "voluntary_exit",
        "contribution_and_proof",
        "some_future_topic",
    ]
)
JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
).map(json.dumps)


@given(topic=TOPICS, data=st.one_of(JSON_TEXT, st.text(max_size=40)))
def test_event_payloads_parse_or_raise_the_typed_error(topic: str, data: str) -> None:
    try:
        event = parse_event(SSEMessage(event=topic, data=data))
    except BeaconResponseError:
        return
    assert event.topic == topic


def test_a_spec_example_event_parses_typed() -> None:
    head = parse_event(
        SSEMessage(
            event="head",
            data=json.dumps(
                {
                    "slot": "10",
                    "block": "0x" + "9a" * 32,
                    "state": "0x" + "60" * 32,
                    "epoch_transition": False,
                    "previous_duty_dependent_root": "0x" + "5e" * 32,
                    "current_duty_dependent_root": "0x" + "5e" * 32,
                    "execution_optimistic": False,
                }
            ),
        )
    )
    assert isinstance(head.data, HeadEvent) and head.data.slot == 10

"""SSE framing: events survive any chunking, line-ending style, comments and retry fields."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

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

"""Pure pieces: NTP arithmetic, the clock window, the token bucket, backoff bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, HostConfig
from nektar.p2p.clock import PeerClock, Sample, ntp_sample
from nektar.p2p.ratelimit import TokenBucket
from nektar.p2p.secure import sealed_size

MS = 1_000_000


@given(
    st.integers(0, 10**18),
    st.integers(-(10**12), 10**12),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
)
def test_ntp_recovers_offset_and_rtt_with_symmetric_paths(
    t1: int, offset: int, one_way: int, processing: int
) -> None:
    t2 = t1 + one_way + offset
    t3 = t2 + processing
    t4 = t3 - offset + one_way
    sample = ntp_sample(t1, t2, t3, t4, elapsed_ns=t4 - t1)
    assert sample.rtt_s == pytest.approx(2 * one_way / 1e9, abs=1e-9)
    assert sample.offset_s == pytest.approx(offset / 1e9, abs=1e-9)


def test_clock_reports_median_rtt_and_offset_of_fastest_sample() -> None:
    clock = PeerClock(window=3)
    assert clock.rtt is None and clock.offset is None
    for rtt, offset in [(0.009, 5.0), (0.001, 0.2), (0.004, 0.3), (0.002, 0.25)]:
        clock.add(Sample(rtt, offset))
    assert clock.rtt == 0.002  # window holds the last three samples
    assert clock.offset == 0.2


def test_token_bucket_refills_at_rate_up_to_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, clock=lambda: now[0])
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.1
    assert bucket.allow() and not bucket.allow()
    now[0] += 100
    assert sum(bucket.allow() for _ in range(10)) == 3
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, burst=1)


def test_backoff_grows_with_jitter_and_caps() -> None:
    host = Host(NodeKey.generate(), config=HostConfig(backoff_initial=0.1, backoff_max=1.0))
    for failures, top in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (40, 1.0)]:
        delays = [host._backoff(failures) for _ in range(50)]
        assert all(top / 2 <= d <= top for d in delays)
        assert len(set(delays)) > 1


def test_sealed_size_counts_one_tag_per_noise_message() -> None:
    assert sealed_size(0) == 16
    assert sealed_size(65519) == 65535
    assert sealed_size(65520) == 65520 + 32

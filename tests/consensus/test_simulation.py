"""Agreement, validity and termination of QBFT under a hostile, then synchronous, network.

Each example is one seeded run of the simulator: random delays, reordering, drops and a
partition of up to f honest nodes before GST; up to f byzantine members throughout. After
GST every honest node must decide, all on the same valid value, each with a valid
quorum certificate.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from qbft_harness import valid
from qbft_sim import Scenario, Simulation

EXAMPLES = settings().max_examples  # 100 with the "ci" profile, more with "fuzz"


@st.composite
def scenarios(draw, sizes: list[int]) -> Scenario:
    n = draw(st.sampled_from(sizes))
    f = (n - 1) // 3
    gst = draw(st.floats(0, 8))
    heal = draw(st.floats(0, gst))
    return Scenario(
        n=n,
        seed=draw(st.integers(0, 2**32 - 1)),
        byzantine=draw(st.integers(0, f)),
        partitioned=draw(st.integers(0, f)),
        gst=gst,
        split=draw(st.one_of(st.just(-1.0), st.floats(0, heal))),
        heal=heal,
        drop_rate=draw(st.sampled_from([0.0, 0.1, 0.3])),
        commit_drop_rate=draw(st.sampled_from([0.0, 0.5, 0.9])),
        max_delay=draw(st.sampled_from([0.01, 0.3, 1.5])),
        delta=draw(st.sampled_from([0.001, 0.05])),
        start_skew=draw(st.sampled_from([0.0, 0.5])),
    )


def check(scenario: Scenario) -> None:
    sim = Simulation(scenario)
    outcome = sim.run()
    # termination: every honest node decided after GST (within the horizon)
    assert sorted(outcome.decisions) == outcome.honest, scenario
    values = {d.value for d in outcome.decisions.values()}
    assert len(values) == 1, f"agreement violated: {values} in {scenario}"  # agreement
    assert all(valid(v) for v in values), scenario  # validity
    assert all(d.verify(sim.cluster) for d in outcome.decisions.values())


@settings(max_examples=EXAMPLES * 3)
@given(scenarios([4]))
def test_invariants_n4(scenario: Scenario) -> None:
    check(scenario)


@settings(max_examples=EXAMPLES * 3 // 5)
@given(scenarios([7, 10]))
def test_invariants_n7_n10(scenario: Scenario) -> None:
    check(scenario)


@settings(max_examples=max(3, EXAMPLES // 5))
@given(scenarios([13, 16]))
def test_invariants_n13_n16(scenario: Scenario) -> None:
    check(scenario)


def test_synchronous_network_decides_in_round_one_for_all_sizes() -> None:
    for n in (4, 7, 10, 13, 16):
        sim = Simulation(Scenario(n=n, seed=n))
        outcome = sim.run()
        assert {d.round for d in outcome.decisions.values()} == {1}
        assert len(outcome.decisions) == n


@settings(max_examples=EXAMPLES)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.01, 0.3]))
def test_invariants_locked_value_survives_byzantine_leaders(seed: int, max_delay: float) -> None:
    """The attack the proposal justification exists for: the first node to decide is cut
    off while the others hold only a prepared value, and the byzantine member leads a later
    round proposing another value with a real quorum of round changes."""
    check(
        Scenario(
            n=4,
            seed=seed,
            byzantine=1,
            partitioned=1,
            gst=6.0,
            split=-1.0,
            heal=5.0,
            commit_drop_rate=0.9,
            max_delay=max_delay,
        )
    )

"""Queries, statuses, finality, events and the clock of the devnet node."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.beacon.chain.clock import SlotClock
from nektar.beacon.chain.config import FAR_FUTURE_EPOCH
from nektar.beacon.chain.epoch import weigh_justification_and_finalization
from nektar.beacon.chain.interface import (
    BlockEvent,
    FinalizedCheckpointEvent,
    HeadEvent,
    InvalidRequest,
    NotFound,
)
from nektar.beacon.chain.node import _status
from nektar.beacon.chain.state import CP, ValidatorRecord

from .conftest import GWEI, make_node


def record(**kw) -> ValidatorRecord:
    return ValidatorRecord(b"\x01" * 48, b"\x01" + b"\x00" * 31, 32 * GWEI, **kw)


@pytest.mark.parametrize(
    ("fields", "balance", "status"),
    [
        ({}, 32 * GWEI, "pending_initialized"),
        ({"activation_eligibility_epoch": 3}, 32 * GWEI, "pending_queued"),
        ({"activation_eligibility_epoch": 1, "activation_epoch": 2}, 32 * GWEI, "active_ongoing"),
        ({"activation_epoch": 2, "exit_epoch": 20}, 32 * GWEI, "active_exiting"),
        ({"activation_epoch": 2, "exit_epoch": 20, "slashed": True}, 1, "active_slashed"),
        ({"activation_epoch": 2, "exit_epoch": 9, "withdrawable_epoch": 12}, 1, "exited_unslashed"),
        (
            {"activation_epoch": 2, "exit_epoch": 9, "withdrawable_epoch": 12, "slashed": True},
            1,
            "exited_slashed",
        ),
        (
            {"activation_epoch": 2, "exit_epoch": 9, "withdrawable_epoch": 10},
            5,
            "withdrawal_possible",
        ),
        ({"activation_epoch": 2, "exit_epoch": 9, "withdrawable_epoch": 10}, 0, "withdrawal_done"),
    ],
)
def test_validator_status_strings(fields, balance, status) -> None:
    assert _status(record(**fields), balance, epoch=10).value == status


def test_finality_rules_of_weigh_justification(node) -> None:
    state = node.head_state().copy()
    state.slot = 5 * 8 + 7
    state.block_roots = [bytes([i]) * 32 for i in range(len(state.block_roots))]
    state.current_justified_checkpoint = CP(4, b"\x04" * 32)
    state.previous_justified_checkpoint = CP(3, b"\x03" * 32)
    state.justification_bits = [True, True, False, False]
    weigh_justification_and_finalization(state, 300, 200, 200)  # 2/3 exactly: justified
    assert state.current_justified_checkpoint.epoch == 5
    assert state.finalized_checkpoint == CP(4, b"\x04" * 32)  # bits 0,1 + current+1 rule
    state2 = node.head_state().copy()
    state2.slot = 5 * 8 + 7
    state2.block_roots = list(state.block_roots)
    weigh_justification_and_finalization(state2, 300, 199, 199)  # short of 2/3
    assert state2.current_justified_checkpoint.epoch == 0
    assert state2.finalized_checkpoint.epoch == 0


def test_chain_finalizes_and_queries_answer(node) -> None:
    node.advance_slots(5 * 8)
    checkpoints = node.finality_checkpoints("head")
    assert int(checkpoints.finalized.epoch) >= 3
    assert node.state_ref("finalized").slot <= int(checkpoints.finalized.epoch) * 8
    assert node.block("genesis").block.message.slot == 0
    head = node.header("head")
    assert head.root == node.block_root(int(head.header.message.slot))
    by_root = node.state_ref("0x" + bytes(head.header.message.state_root).hex())
    assert by_root.block_root == head.root
    assert node.validators("head", statuses=["active"]).data[0].status.value == "active_ongoing"
    assert len(node.balances("head", [0, 1, 99]).data) == 2  # unknown ids are skipped
    assert node.state_fork("head").current_version == node.cfg.chain.fork("electra").version
    spec = node.spec()
    assert spec["SECONDS_PER_SLOT"] == "2" and spec["SLOTS_PER_EPOCH"] == "8"
    assert node.fork_schedule()[-1].epoch == FAR_FUTURE_EPOCH  # Fulu is not implemented
    duties = node.attester_duties(5, range(16))
    assert len(duties.data) == 16 and duties.dependent_root == node.block_root(3 * 8 + 7)
    assert len(node.proposer_duties(5).data) == 8
    with pytest.raises(NotFound):
        node.block("0x" + "ab" * 32)
    with pytest.raises(InvalidRequest):
        node.state_ref("sideways")
    with pytest.raises(NotFound):
        node.state_ref(10_000)
    with pytest.raises(InvalidRequest):
        node.validators("head", statuses=["sleeping"])
    with pytest.raises(InvalidRequest):
        node.attester_duties(9, [0])


def test_rewards_for_attesters_and_costs_for_missed_duties() -> None:
    node = make_node(16)
    lazy = 15
    node._managed.pop(lazy)  # validator 15 never performs its duties
    node.advance_slots(4 * 8)
    balances = node.head_state().balances
    assert all(b > 32 * GWEI for i, b in enumerate(balances) if i != lazy)
    assert balances[lazy] < 32 * GWEI


async def test_events_are_delivered_to_subscribers(node) -> None:
    stream = node.subscribe(["head", "block", "finalized_checkpoint"])
    await asyncio.get_running_loop().run_in_executor(None, node.advance_slots, 5 * 8)
    seen = []
    while not stream.queue.empty():
        seen.append(await stream.__anext__())
    stream.close()
    assert any(isinstance(e, HeadEvent) for e in seen)
    assert sum(isinstance(e, BlockEvent) for e in seen) == 40
    assert any(isinstance(e, FinalizedCheckpointEvent) for e in seen)
    with pytest.raises(InvalidRequest):
        node.subscribe(["gossip"])


async def test_slot_clock_follows_wall_time() -> None:
    from nektar.beacon.chain.config import BeaconConfig, devnet_chain

    now = time.time()
    cfg = BeaconConfig(chain=devnet_chain(genesis_time=int(now), seconds_per_slot=1))
    from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
    from nektar.beacon.chain.node import DevnetBeaconNode
    from nektar.crypto import bls

    keys = {i: 1000 + i for i in range(8)}
    validators = [
        GenesisValidator(bls.sk_to_pk(k), b"\x01" + b"\x00" * 31, 32 * GWEI) for k in keys.values()
    ]
    node = DevnetBeaconNode(genesis_state(cfg, int(now), validators), managed_keys=keys)
    clock = SlotClock(node)
    await asyncio.wait_for(clock.run(until_slot=2), timeout=10)
    assert node.current_slot() == 2
    assert node.block("head").block.message.slot >= 1


_FUZZ_NODE = make_node(8)
_FUZZ_NODE.advance_slots(3)

ids = st.one_of(
    st.integers(-(2**70), 2**70),
    st.text(max_size=70),
    st.binary(max_size=70),
    st.sampled_from(["head", "genesis", "finalized", "0x" + "00" * 32, "0x12", "²", "٣"]),
)


@given(ids)
def test_any_state_or_block_id_gives_an_answer_or_a_typed_error(state_id) -> None:
    for query in (_FUZZ_NODE.state_ref, _FUZZ_NODE.block_root, _FUZZ_NODE.balances):
        with contextlib.suppress(NotFound, InvalidRequest):
            query(state_id)


@given(st.lists(st.one_of(st.integers(-5, 2**64), st.binary(min_size=0, max_size=60)), max_size=5))
def test_any_validator_ids_give_an_answer_or_a_typed_error(validator_ids) -> None:
    try:
        result = _FUZZ_NODE.validators("head", validator_ids)
    except InvalidRequest:
        return
    assert all(0 <= info.index < 8 for info in result.data)

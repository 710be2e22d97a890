"""The DKG engines of a proposed cluster run the DKG over real P2P and register once."""

from __future__ import annotations

from nektar.chain.pods import deploy_native_restaking
from nektar.crypto import bls, threshold
from nektar.crypto.signing import eth1_withdrawal_credentials
from nektar.stinger.dkg_engine import DkgSchedule

from .conftest import ETHER, Protocol, until

REGISTERED, FAILED = 2, 6
QUICK = DkgSchedule(
    phase_seconds=1.0, collect_seconds=2.0, submit_stagger=1.0, confirm_seconds=2.0, max_attempts=1
)


async def test_four_nodes_register_one_validator(protocol: Protocol) -> None:
    p = protocol
    for _ in range(4):
        p.add_operator()
    p.stake(32 * ETHER)
    await p.start(p.nodes)
    proposal = p.propose()
    registry = p.system.validators
    await until(lambda: all(proposal.validator_id in n.engine.results for n in p.nodes), 40, "DKG")
    assert registry.validator(proposal.validator_id).status == REGISTERED
    registered = registry.contract.events("ValidatorRegistered")
    assert len(registered) == 1  # nobody paid twice
    submits = [e for e in registered]
    pubkey = bytes(submits[0]["pubkey"])
    results = [n.engine.results[proposal.validator_id] for n in p.nodes]
    assert {r.definition.pubkey for r in results} == {pubkey}
    # any t shares sign for the group key; the share files are where the node loads them
    message = b"nektar"
    partials = {
        r.definition.my_index: threshold.partial_sign(r.share, message) for r in results[:3]
    }
    assert bls.verify(pubkey, message, threshold.combine(partials, 3))
    for node in p.nodes:
        assert node.clusters.datadir.cluster_file(pubkey).exists()
    assert p.system.lst.pool.in_transit_ether() == ETHER


async def test_absent_member_times_out_then_reproposal_registers(protocol: Protocol) -> None:
    """A picked member never comes up: the others' DKG completes (3 qualified dealers) but
    its registration signature never arrives, so they abandon cleanly (nothing written). After
    the chain's deadline one member calls `fail`; the contract re-proposes without the member
    that never acknowledged, and the live operators register that validator."""
    p = protocol
    for _ in range(5):
        p.add_operator()
    p.stake(32 * ETHER)
    first = p.propose()
    absent = p.node_of(first.nodes[-1])
    live = [n for n in p.nodes if n is not absent]
    await p.start(live, QUICK)
    members = [n for n in live if "0x" + n.address.hex() in {a.lower() for a in first.nodes}]
    await until(
        lambda: all(first.validator_id in n.engine.abandoned for n in members), 30, "abandon"
    )
    assert all(not list(n.clusters.datadir.clusters_dir.glob("*.json")) for n in live)
    assert p.system.validators.contract.call("acknowledgements", first.validator_id) == 0b0111
    p.backend.increase_time(p.system.validators.contract.call("dkg_timeout") + 1)
    second = first.validator_id + 1
    await until(lambda: all(second in n.engine.results for n in live), 40, "re-proposal DKG")
    assert p.system.validators.validator(first.validator_id).status == FAILED
    assert p.system.validators.validator(second).status == REGISTERED
    assert len(p.system.validators.contract.events("ValidatorFailed")) == 1


async def test_late_member_joins_the_retry(protocol: Protocol) -> None:
    """Member 1 starts only after the others' first attempt failed without it: it joins the
    attempt they moved on to, and the validator is registered once."""
    p = protocol
    for _ in range(4):
        p.add_operator()
    p.stake(32 * ETHER)
    proposal = p.propose()
    vid = proposal.validator_id
    late = p.node_of(proposal.nodes[0])
    early = [n for n in p.nodes if n is not late]
    retrying = DkgSchedule(
        phase_seconds=1.0, collect_seconds=2.0, submit_stagger=0.5, confirm_seconds=2.0
    )
    await p.start(early, retrying)
    await until(lambda: all(vid in n.engine.failures for n in early), 30, "a failed attempt")
    await p.start([late], retrying)
    await until(lambda: all(vid in n.engine.results for n in p.nodes), 40, "registration")
    assert p.system.validators.validator(vid).status == REGISTERED
    assert len(p.system.validators.contract.events("ValidatorRegistered")) == 1
    assert {n.engine.results[vid].definition.pubkey for n in p.nodes} == {
        bytes(p.system.validators.contract.events("ValidatorRegistered")[0]["pubkey"])
    }


async def test_pod_validator_deposit_carries_the_pod_credentials(protocol: Protocol) -> None:
    """A NativePod's 32 ETH (`propose_for_pod`): the engines sign the 1 ETH deposit with that
    validator's credentials, 0x01‖pod (the contract checks the root against them), and the
    pool's ETH is not touched."""
    p = protocol
    for _ in range(4):
        p.add_operator()
    native = deploy_native_restaking(p.system)
    restaker = p.backend.new_account(40 * ETHER)
    pod = native.create_pod(restaker)
    await p.start(p.nodes)
    [vid] = pod.stake(restaker)
    await until(lambda: all(vid in n.engine.results for n in p.nodes), 40, "DKG")
    registry = p.system.validators
    assert (
        registry.validator(vid).status == REGISTERED and registry.validator_pod(vid) == pod.address
    )
    [deposit] = p.system.deposit_contract.contract.events("DepositEvent")
    assert bytes(deposit["pubkey"]) == p.nodes[0].engine.results[vid].definition.pubkey
    pod_credentials = eth1_withdrawal_credentials(bytes.fromhex(pod.address[2:]))
    assert bytes(deposit["withdrawal_credentials"]) == pod_credentials
    assert registry.withdrawal_credentials(vid) == pod_credentials
    assert p.system.lst.pool.in_transit_ether() == 0

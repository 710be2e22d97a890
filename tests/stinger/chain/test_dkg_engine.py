"""The DKG engines of a proposed cluster run the DKG over real P2P and register once."""

from __future__ import annotations

from nektar.crypto import bls, threshold

from .conftest import ETHER, Protocol, until

REGISTERED = 2


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

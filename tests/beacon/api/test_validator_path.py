"""The cluster-independent validator path over REST: one plain BLS validator, driven only by
the tiny validator client through `BeaconClient`, attests, aggregates, signs sync messages and
proposes for several epochs on the fast-forwarded devnet chain, earns rewards (while an idle
validator loses), then exits through the API. (Withdrawal after the exit is the chain's part,
tested on the node interface in tests/beacon/chain.)"""

from __future__ import annotations

from nektar.beacon.chain.containers import SignedVoluntaryExit
from nektar.crypto import bls
from nektar.crypto.signing import VoluntaryExit, voluntary_exit_signing_root

from .conftest import SECRET_KEYS, Served
from .test_conformance import run_slot
from .tiny_vc import TinyValidatorClient

GWEI_32_ETH = 32 * 10**9
ACTIVE, IDLE = 7, 6  # 0-5 are managed by the node; 6 does nothing at all


async def test_plain_validator_earns_rewards_then_exits_over_rest(served: Served) -> None:
    client, node = served.client, served.node
    vc = TinyValidatorClient(client, {ACTIVE: SECRET_KEYS[ACTIVE]})
    await vc.setup()
    slot = node.current_slot()
    while slot < 8 * 7 or not vc.proposals:  # at least 4 more epochs and one proposal
        slot += 1
        await run_slot(served, vc, slot)
        assert slot < 8 * 16, "the validator never got to propose"

    assert len(vc.attestations) >= 4 and vc.aggregates
    balances = {b.index: b.balance for b in await client.validator_balances("head")}
    assert balances[ACTIVE] > GWEI_32_ETH > balances[IDLE]
    finality = await client.finality_checkpoints("head")
    assert finality.finalized.epoch >= 4  # the API-driven votes count towards finality
    proposed = await client.block(vc.proposals[-1])
    assert proposed.block.message.proposer_index == ACTIVE
    assert proposed.block.message.body.graffiti.startswith(b"tiny-vc")

    # exit through the API (EIP-7044: signed with the Capella fork version)
    spec = await client.spec()
    capella = bytes.fromhex(spec["CAPELLA_FORK_VERSION"][2:])
    message = VoluntaryExit(epoch=slot // 8, validator_index=ACTIVE)
    signature = bls.sign(
        SECRET_KEYS[ACTIVE], voluntary_exit_signing_root(message, capella, vc.genesis_root)
    )
    await client.submit_voluntary_exit(SignedVoluntaryExit(message=message, signature=signature))
    assert len(await client.pool_voluntary_exits()) == 1
    await run_slot(served, vc, slot + 1)  # the next block includes the exit
    validator = await client.validator(ACTIVE)
    assert validator.status == "active_exiting"
    assert validator.validator.exit_epoch < 2**64 - 1
    assert await client.pool_voluntary_exits() == []

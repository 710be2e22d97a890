"""ValidatorRegistry: proposals, registration checks (sizes, member signatures, deposit root),
the front-running defence, DKG timeouts with re-proposal, exits, and lifecycle edges."""

from __future__ import annotations

from dataclasses import replace

import boa
import pytest

from nektar.chain.diva_ops import play_cluster
from nektar.crypto import eip712
from nektar.crypto.node_key import NodeKey
from nektar.crypto.signing import deposit_data_root

from .conftest import (
    ACTIVATED,
    ETHER,
    EXITING,
    FAILED,
    GENESIS_FORK_VERSION,
    PROPOSED,
    REGISTERED,
    WITHDRAWN,
    Ops,
)


def _submit(ops: Ops, args: tuple) -> None:
    with boa.env.prank(ops.account("submitter")):
        ops.validators.register(*args)


# ---------------------------------------------------------------- propose


def test_propose_needs_buffer_and_operators(ops: Ops) -> None:
    for i in range(3):
        ops.add_operator(f"op-{i}")
    with boa.reverts("validator: buffer below 32 ETH or not enough operators with free capacity"):
        ops.propose()
    ops.stake(32 * ETHER)
    with boa.reverts("validator: buffer below 32 ETH or not enough operators with free capacity"):
        ops.propose()  # only 3 operators for n = 4
    ops.add_operator("op-3")
    assert ops.propose() == 1
    with boa.reverts("validator: buffer below 32 ETH or not enough operators with free capacity"):
        ops.propose()  # the 32 ETH are committed to validator 1


def test_propose_keeps_withdrawal_reserve(ops: Ops) -> None:
    for i in range(4):
        ops.add_operator(f"op-{i}")
    staker = ops.account("leaver")
    ops.lst.deposit(staker, 40 * ETHER)
    with boa.env.prank(staker):
        ops.lst.queue.request_withdrawals([10 * ETHER])
    with boa.reverts("validator: buffer below 32 ETH or not enough operators with free capacity"):
        ops.propose()  # 40 ETH buffered, 10 reserved for the queue
    ops.stake(2 * ETHER)
    assert ops.propose() == 1


def test_cluster_sizes(cluster_ready: Ops) -> None:
    ops = cluster_ready
    for i in range(8, 16):
        ops.add_operator(f"op-{i}")
    with boa.env.prank(ops.lst.admin):
        with boa.reverts("validator: cluster size not in {4,7,10,13,16}"):
            ops.validators.set_parameters(5, 3600)
        ops.validators.set_parameters(16, 3600)
    vid = ops.propose()
    proposed = ops.validators.get_logs()[-1]
    assert (proposed.n, proposed.t, len(set(proposed.operator_ids))) == (16, 11, 16)
    ops.register(vid)
    assert ops.status(vid) == REGISTERED
    with boa.env.prank(ops.account("stranger")), boa.reverts("validator: caller is not governance"):
        ops.validators.set_parameters(4, 3600)


# ---------------------------------------------------------------- register: bad input


@pytest.fixture
def proposed(cluster_ready: Ops) -> tuple[Ops, int]:
    ops = cluster_ready
    return ops, ops.propose()


def test_register_size_checks(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    _, pubkey, shares, sig, root, sigs = ops.play(vid).args()
    cases = [
        ((vid, pubkey[:47], shares, sig, root, sigs), "validator: pubkey must be 48 bytes"),
        ((vid, pubkey + b"\x00", shares, sig, root, sigs), "validator: pubkey must be 48 bytes"),
        (
            (vid, pubkey, shares[:-48], sig, root, sigs),
            "validator: public shares must be n x 48 bytes",
        ),
        (
            (vid, pubkey, shares + b"\x00", sig, root, sigs),
            "validator: public shares must be n x 48 bytes",
        ),
        (
            (vid, pubkey, shares, sig[:95], root, sigs),
            "validator: deposit signature must be 96 bytes",
        ),
        (
            (vid, pubkey, shares, sig, root, sigs[:-65]),
            "validator: member signatures must be n x 65 bytes",
        ),
        (
            (vid, pubkey, shares, sig, root, sigs + b"\x00"),
            "validator: member signatures must be n x 65 bytes",
        ),
        ((vid, pubkey, shares, sig, b"\x11" * 32, sigs), "validator: deposit data root mismatch"),
        ((vid + 1, pubkey, shares, sig, root, sigs), "validator: unknown validator"),
        ((0, pubkey, shares, sig, root, sigs), "validator: unknown validator"),
    ]
    for args, reason in cases:
        with boa.reverts(reason):
            _submit(ops, args)


def test_register_member_signatures(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    reg = ops.play(vid)
    args = list(reg.args())
    sigs = list(reg.member_signatures)
    # a member's signature replaced by a stranger's
    stranger = NodeKey.generate()
    domain = eip712.validator_registry_domain(boa.env.evm.chain.chain_id, ops.validators.address)
    message = eip712.ValidatorRegistration(
        vid, reg.pubkey, reg.public_shares, reg.deposit_signature, reg.deposit_data_root
    )
    forged = [*sigs[:2], eip712.sign(stranger, domain, message), *sigs[3:]]
    with boa.reverts("validator: bad member signature"):
        _submit(ops, (*args[:5], b"".join(forged)))
    # members in the wrong order
    with boa.reverts("validator: bad member signature"):
        _submit(ops, (*args[:5], b"".join([sigs[1], sigs[0], *sigs[2:]])))
    # the same member signing twice in place of another (duplicate member)
    with boa.reverts("validator: bad member signature"):
        _submit(ops, (*args[:5], b"".join([sigs[0], sigs[0], *sigs[2:]])))
    # signatures over other shares than those submitted
    swapped = reg.public_shares[1] + reg.public_shares[0] + b"".join(reg.public_shares[2:])
    with boa.reverts("validator: bad member signature"):
        _submit(ops, (args[0], args[1], swapped, *args[3:]))
    # a malleable high-s twin
    bad = bytearray(sigs[0])
    bad[32:64] = (eip712.SECP256K1_N - int.from_bytes(sigs[0][32:64], "big")).to_bytes(32, "big")
    with boa.reverts("signature: s is zero or in the upper half of the curve order"):
        _submit(ops, (*args[:5], bytes(bad) + b"".join(sigs[1:])))


def test_register_wrong_credentials_in_deposit(proposed: tuple[Ops, int]) -> None:
    """A cluster that signs a deposit to other credentials cannot register it."""
    ops, vid = proposed
    other = b"\x01" + b"\x00" * 11 + b"\x66" * 20
    reg = play_cluster(
        boa.env.evm.chain.chain_id,
        ops.validators.address,
        vid,
        [m.node_key for m in ops.members_of(vid)],
        other,
        GENESIS_FORK_VERSION,
        use_dkg=False,
    )
    with boa.reverts("validator: deposit data root mismatch"):
        _submit(ops, reg.args())


def test_register_once_and_pubkey_once(cluster_ready: Ops) -> None:
    ops = cluster_ready
    first, second = ops.propose(), ops.propose()
    reg = ops.register(first)
    with boa.reverts("validator: not proposed"):
        _submit(ops, reg.args())
    # the second cluster tries to reuse the first validator's key
    members = [m.node_key for m in ops.members_of(second)]
    domain = eip712.validator_registry_domain(boa.env.evm.chain.chain_id, ops.validators.address)
    shares = reg.public_shares
    message = eip712.ValidatorRegistration(
        second, reg.pubkey, shares, reg.deposit_signature, reg.deposit_data_root
    )
    sigs = b"".join(eip712.sign(k, domain, message) for k in members)
    args = (
        second,
        reg.pubkey,
        b"".join(shares),
        reg.deposit_signature,
        reg.deposit_data_root,
        sigs,
    )
    with boa.reverts("validator: pubkey already registered"):
        _submit(ops, args)


def test_register_deposits_one_ether_to_the_vault(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    reg = ops.register(vid)
    event = [e for e in ops.validators.get_logs() if type(e).__name__ == "DepositEvent"][-1]
    credentials = bytes(ops.validators.WITHDRAWAL_CREDENTIALS())
    assert bytes(event.withdrawal_credentials) == credentials
    assert bytes(event.pubkey) == reg.pubkey
    assert int.from_bytes(bytes(event.amount), "little") == 10**9
    assert ops.deposit_contract.get_deposit_count() == (1).to_bytes(8, "little")
    assert ops.validators.pubkey_validator(bytes(32)) == 0


# ---------------------------------------------------------------- activation and front-running


def test_activation_needs_confirmation(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    reg = ops.register(vid)
    with boa.reverts("validator: credentials not confirmed by the oracle"):
        ops.activate(vid)
    ops.next_frame()
    ops.apply(ops.report(confirmed=(vid,)))
    other_sig = reg.deposit_signature[:-1] + bytes([reg.deposit_signature[-1] ^ 1])
    with (
        boa.env.prank(ops.account("x")),
        boa.reverts("validator: pubkey or signature differ from the registration"),
    ):
        ops.validators.activate(vid, reg.pubkey, other_sig)
    ops.activate(vid)
    event = [e for e in ops.validators.get_logs() if type(e).__name__ == "DepositEvent"][-1]
    assert int.from_bytes(bytes(event.amount), "little") == 31 * 10**9
    assert bytes(event.withdrawal_credentials) == bytes(ops.validators.WITHDRAWAL_CREDENTIALS())
    assert ops.status(vid) == ACTIVATED
    with boa.reverts("validator: not registered"):
        ops.activate(vid)


def _beacon_credentials(ops: Ops, logs: list) -> dict[bytes, bytes]:
    """A beacon chain's view: the first deposit for a pubkey fixes its credentials."""
    seen: dict[bytes, bytes] = {}
    for event in logs:
        if type(event).__name__ == "DepositEvent":
            seen.setdefault(bytes(event.pubkey), bytes(event.withdrawal_credentials))
    return seen


def test_front_running_is_detected_and_written_off(proposed: tuple[Ops, int]) -> None:
    """A member front-runs the registration with a deposit for the same key to its own
    credentials. The oracle sees other credentials on the beacon chain and rejects the
    validator: the 31 ETH are never sent and the lost 1 ETH is shared by stakers."""
    ops, vid = proposed
    reg = ops.play(vid)
    attacker = ops.account("attacker")
    evil = b"\x01" + b"\x00" * 11 + bytes.fromhex(attacker[2:])
    # the dishonest cluster can produce a valid deposit signature for its own credentials
    from nektar.crypto import bls
    from nektar.crypto.deposit import combine_deposit, partial_deposit_signature
    from nektar.crypto.threshold import recover_secret

    shares = reg.secret_shares
    partials = {
        i: partial_deposit_signature(shares[i], reg.pubkey, evil, 10**9, GENESIS_FORK_VERSION)
        for i in (1, 2, 3)
    }
    public = {i: bls.sk_to_pk(s) for i, s in shares.items()}
    entry = combine_deposit(
        reg.pubkey, public, partials, 3, evil, 10**9, GENESIS_FORK_VERSION, "devnet"
    )
    assert recover_secret(shares)  # the key exists only as shares; the combine used 3 of 4
    logs = []
    with boa.env.prank(attacker):
        ops.deposit_contract.deposit(
            reg.pubkey, evil, entry.signature, entry.deposit_data_root, value=ETHER
        )
    logs += ops.deposit_contract.get_logs()
    _submit(ops, reg.args())
    logs += [e for e in ops.validators.get_logs() if type(e).__name__ == "DepositEvent"]
    view = _beacon_credentials(ops, logs)
    credentials = bytes(ops.validators.WITHDRAWAL_CREDENTIALS())
    assert view[reg.pubkey] != credentials  # detected

    pooled = ops.pool.total_pooled_ether()
    ops.next_frame()
    # the beacon chain credited our 1 ETH to the attacker's validator: not in our balance
    ops.apply(ops.report(rejected=(vid,), beacon_balance=0))
    assert ops.status(vid) == FAILED
    assert ops.pool.total_pooled_ether() == pooled - ETHER
    with boa.reverts("validator: not registered"):
        ops.activate(vid)
    assert ops.pool.deposited_ether() == ETHER  # the 31 ETH never left
    assert ops.validators.committed_ether() == 0
    for member in ops.members_of(vid):
        assert ops.operators.operator(member.operator_id)[4] == 0


# ---------------------------------------------------------------- DKG timeout


def test_dkg_timeout_reproposes_without_non_signers(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    members = ops.members_of(vid)
    for index in (0, 2):  # members 1 and 3 stay silent
        with boa.env.prank(members[index].node):
            ops.validators.acknowledge(vid, index)
    with (
        boa.env.prank(ops.account("stranger")),
        boa.reverts("validator: caller is not this member"),
    ):
        ops.validators.acknowledge(vid, 1)
    with boa.env.prank(members[0].node), boa.reverts("validator: member index out of range"):
        ops.validators.acknowledge(vid, 4)
    assert ops.validators.acknowledgements(vid) == 0b101
    with boa.reverts("validator: DKG deadline not passed"):
        ops.validators.fail(vid)
    boa.env.time_travel(seconds=ops.validators.dkg_timeout() + 1)
    reg = ops.play(vid)
    with boa.reverts("validator: DKG deadline passed"):
        _submit(ops, reg.args())
    with boa.env.prank(members[1].node), boa.reverts("validator: DKG deadline passed"):
        ops.validators.acknowledge(vid, 1)
    ops.validators.fail(vid)
    failed = next(e for e in ops.validators.get_logs() if type(e).__name__ == "ValidatorFailed")
    assert list(failed.non_signers) == [members[1].operator_id, members[3].operator_id]
    assert ops.status(vid) == FAILED
    again = vid + 1
    new_members = set(ops.validators.validator(again)[4])
    assert ops.status(again) == PROPOSED
    assert not new_members & {members[1].operator_id, members[3].operator_id}
    with boa.reverts("validator: not proposed"):
        ops.validators.fail(vid)


def test_timeout_without_reproposal_when_no_cluster(ops: Ops) -> None:
    for i in range(4):
        ops.add_operator(f"op-{i}")
    ops.stake(32 * ETHER)
    vid = ops.propose()
    boa.env.time_travel(seconds=ops.validators.dkg_timeout() + 1)
    ops.validators.fail(vid)  # nobody acknowledged: no four operators remain
    assert ops.validators.validator_count() == 1
    assert ops.validators.committed_ether() == 0


# ---------------------------------------------------------------- exits and lifecycle edges


def test_exit_and_withdrawal_edges(cluster_ready: Ops) -> None:
    ops = cluster_ready
    vid = ops.propose()
    oracle = ops.oracle.address

    def apply(**lists: list[int]) -> None:
        fields = {"confirmed": [], "rejected": [], "to_exit": [], "withdrawn": []} | lists
        with boa.env.prank(oracle):
            ops.validators.apply_report(
                fields["confirmed"], fields["rejected"], fields["to_exit"], fields["withdrawn"]
            )

    for lists in ({"confirmed": [vid]}, {"rejected": [vid]}):
        with boa.reverts("validator: not awaiting confirmation"):
            apply(**lists)
    with boa.reverts("validator: not activated"):
        apply(to_exit=[vid])
    with boa.reverts("validator: not exiting"):
        apply(withdrawn=[vid])
    with boa.reverts("validator: unknown validator"):
        apply(confirmed=[vid + 1])
    ops.onboard(vid)
    with boa.reverts("validator: not awaiting confirmation"):
        apply(confirmed=[vid])
    with boa.reverts("validator: not exiting"):
        apply(withdrawn=[vid])
    apply(to_exit=[vid])
    assert ops.status(vid) == EXITING
    with boa.reverts("validator: not activated"):
        apply(to_exit=[vid])
    apply(withdrawn=[vid])
    assert ops.status(vid) == WITHDRAWN
    with boa.reverts("validator: not exiting"):
        apply(withdrawn=[vid])
    with boa.env.prank(ops.account("stranger")), boa.reverts("validator: caller is not the oracle"):
        ops.validators.apply_report([], [], [], [])


def test_eth_only_from_pool(ops: Ops) -> None:
    from eth.exceptions import Revert

    with pytest.raises(Revert) as exc:
        boa.env.raw_call(ops.validators.address, sender=ops.account("x"), value=ETHER)
    assert b"validator: ETH only from the pool" in exc.value.args[0]


def test_root_matches_python(proposed: tuple[Ops, int]) -> None:
    ops, vid = proposed
    reg = ops.play(vid)
    credentials = bytes(ops.validators.WITHDRAWAL_CREDENTIALS())
    assert reg.deposit_data_root == deposit_data_root(
        reg.pubkey, credentials, 10**9, reg.deposit_signature
    )
    bad = replace(
        reg,
        deposit_data_root=deposit_data_root(
            reg.pubkey, credentials, 32 * 10**9, reg.deposit_signature
        ),
    )
    with boa.reverts("validator: deposit data root mismatch"):
        _submit(ops, bad.args())

"""The restaking chapters of `make demo` on a bare anvil (no beacon chain, no nodes): the
upper layer and native restaking deployed over JSON-RPC on a fresh Diva system with four
registered, bonded operators; every chapter checks its own outcomes (split, commission,
claims, veto, equivocation, slashed withdrawal). The pod is funded and its validator proposed
with the pod's credentials; here the test plays its cluster and the oracle (in `make demo` the
nodes do): the report, sent with anvil's gas estimate, mints and restakes the pod's nETH, and
the pod's owner claims the rewards it earns in the network (which accepts wdivETH and nETH)."""

from __future__ import annotations

import pytest

from nektar.chain.anvil import start_anvil
from nektar.chain.diva_ops import Report, deploy_diva_system, play_cluster
from nektar.crypto.node_key import NodeKey
from nektar.devnet.processes import DevnetError
from nektar.devnet.restaking_demo import ETH, RestakingDemo

GENESIS_FORK_VERSION = bytes.fromhex("10004e4b")  # deploy_diva_system's default
pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]


def test_restaking_chapters_on_anvil() -> None:
    with start_anvil() as anvil:
        backend = anvil.backend()
        admin = backend.accounts[0]
        system = deploy_diva_system(backend, admin)
        operators = [backend.new_account(10 * ETH) for _ in range(4)]
        keys = {}
        for i, op in enumerate(operators, start=1):
            key = NodeKey.generate()
            keys[system.operators.register(op, key, f"https://operator{i}.test")] = key
            system.operators.bond_eth(op, ETH)  # one key share each: a cluster of four
        demo = RestakingDemo(backend, system, admin, operators)
        with pytest.raises(DevnetError, match="need 3 operators"):
            RestakingDemo(backend, system, admin, operators[:2])

        demo.deploy()
        (validator_id,) = demo.fund_pod()
        assert demo.system.validators.validator_pod(validator_id) == demo.pod.address
        assert demo.pod_minted() == 0  # nothing reported yet

        assert "distributor" in demo.restake()
        assert "RWD" in demo.network_rewards()
        assert "equivocation" in demo.slashing()

        sheet = demo.sheet
        assert sheet.stages == ["restaked", "rewards claimed", "slashed"]
        restaked = sheet.rows[("restaker", "restaked (wdivETH)")]
        assert restaked[0] == restaked[1] > 2 * restaked[2] > 0  # half withdrawn, slashed
        withdrawn = sheet.rows[("restaker", "withdrawn (wdivETH)")]
        assert withdrawn[:2] == [0, 0] and 0 < withdrawn[2] < restaked[0] // 2
        slashed = sheet.rows[("network", "slashed stake received (wdivETH)")]
        assert slashed[:2] == [0, 0] and slashed[2] > 0
        assert sheet.rows[("operator 1", "commission (RWD)")][1] > 0

        # the pod's validator: its cluster registers it, the oracle confirms, 31 ETH, reports
        registry, oracle = system.validators, system.oracle
        oracle.set_parameters(admin, 1, 10**14, False)
        oracle.add_member(admin, admin.address)
        members = [keys[i] for i in registry.validator(validator_id).operator_ids]
        registration = play_cluster(
            backend.chain_id,
            registry.address,
            validator_id,
            members,
            demo.pod_credentials(),
            GENESIS_FORK_VERSION,
            use_dkg=False,
        )
        registry.register(admin, registration)

        def report(**fields: object) -> None:
            backend.increase_time(oracle.frame_seconds())
            pool = system.lst.pool
            report = Report(
                ref_slot=oracle.current_ref_slot(),
                beacon_balance=pool.beacon_balance(),
                beacon_deposited=pool.beacon_deposited_ether(),
                active_validators=0,
                exited_validators=0,
                vault_balance=0,
                **fields,
            )
            oracle.vote(admin, report)
            oracle.submit(admin, report)  # gas: anvil's estimate × 1.2, as the nodes send it

        report(confirmed=(validator_id,))
        registry.activate(admin, registration)
        report(pod_validators=(validator_id,), pod_balances=(32 * ETH,))
        assert "RWD claimed" in demo.check_pod(32 * ETH)  # restaked by the report, not idle
        assert sheet.stages[-1] == "native restaked"
        assert sheet.rows[("native restaker", "pod's restaked nETH")][-1] >= 32 * ETH - 1
        assert sheet.rows[("native restaker", "rewards (RWD)")][-1] > 0

"""The restaking chapters of `make demo` on a bare anvil (no beacon chain, no nodes): the
upper layer and native restaking deployed over JSON-RPC on a fresh Diva system with four
registered, bonded operators; every chapter checks its own outcomes (split, commission,
claims, veto, equivocation, slashed withdrawal). The pod is funded and its validator proposed
with the pod's credentials; its DKG and the oracle's reports need the nodes (`make demo`)."""

from __future__ import annotations

import pytest

from nektar.chain.anvil import start_anvil
from nektar.chain.diva_ops import deploy_diva_system
from nektar.crypto.node_key import NodeKey
from nektar.devnet.processes import DevnetError
from nektar.devnet.restaking_demo import ETH, RestakingDemo

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]


def test_restaking_chapters_on_anvil() -> None:
    with start_anvil() as anvil:
        backend = anvil.backend()
        admin = backend.accounts[0]
        system = deploy_diva_system(backend, admin)
        operators = [backend.new_account(10 * ETH) for _ in range(4)]
        for i, op in enumerate(operators, start=1):
            system.operators.register(op, NodeKey.generate(), f"https://operator{i}.test")
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

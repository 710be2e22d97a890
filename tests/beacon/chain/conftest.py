"""Shared set-up for the devnet beacon-chain tests: genesis with managed validators, and a
plain validator client that performs one validator's duties through the node interface."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_RANDAO,
    DOMAIN_VOLUNTARY_EXIT,
    Epoch,
    SingleAttestation,
    VoluntaryExit,
    compute_domain,
    compute_signing_root,
    deposit_data_root,
    deposit_signing_root,
    eth1_withdrawal_credentials,
)

GENESIS_TIME = 1_700_000_000
ETH = 10**18
GWEI = 10**9


def secret(n: int) -> int:
    return bls.keygen(n.to_bytes(32, "big"))


def make_node(managed: int = 16, cfg: BeaconConfig | None = None, **kwargs) -> DevnetBeaconNode:
    cfg = cfg or BeaconConfig(chain=devnet_chain(genesis_time=GENESIS_TIME))
    keys = {i: secret(i + 1) for i in range(managed)}
    validators = [
        GenesisValidator(
            bls.sk_to_pk(sk), eth1_withdrawal_credentials(bytes([0xAA] * 19 + [i])), 32 * GWEI
        )
        for i, sk in keys.items()
    ]
    return DevnetBeaconNode(
        genesis_state(cfg, GENESIS_TIME, validators), managed_keys=keys, **kwargs
    )


@pytest.fixture
def node() -> DevnetBeaconNode:
    return make_node()


def signed_deposit(sk: int, credentials: bytes, amount_gwei: int, fork_version: bytes) -> tuple:
    """(pubkey, credentials, signature, deposit_data_root) as the DepositContract takes them."""
    pk = bls.sk_to_pk(sk)
    sig = bls.sign(sk, deposit_signing_root(pk, credentials, amount_gwei, fork_version))
    return pk, credentials, sig, deposit_data_root(pk, credentials, amount_gwei, sig)


@dataclass
class PlainValidator:
    """A validator client for one plain BLS key that acts only through the node interface."""

    node: DevnetBeaconNode
    sk: int
    proposed: list[int] = field(default_factory=list)
    attested: list[int] = field(default_factory=list)

    @property
    def pubkey(self) -> bytes:
        return bls.sk_to_pk(self.sk)

    @property
    def index(self) -> int | None:
        return self.node.head_state().index_of(self.pubkey)

    def domain(self, domain_type: bytes, epoch: int) -> bytes:
        return self.node.signing_state().domain(domain_type, epoch)

    def act(self) -> None:
        """Perform this slot's duties (propose if chosen, attest if in a committee)."""
        index = self.index
        if index is None:
            return
        slot = self.node.current_slot()
        epoch = slot // self.node.cfg.slots_per_epoch
        if any(
            d.slot == slot
            for d in self.node.proposer_duties(epoch).data
            if d.validator_index == index
        ):
            self.propose(slot)
        for duty in self.node.attester_duties(epoch, [index]).data:
            if duty.slot == slot:
                self.attest(slot, duty.committee_index)

    def sign_block(self, block: c.BeaconBlock) -> c.SignedBeaconBlock:
        epoch = int(block.slot) // self.node.cfg.slots_per_epoch
        root = compute_signing_root(
            block.hash_tree_root(), self.domain(DOMAIN_BEACON_PROPOSER, epoch)
        )
        return c.SignedBeaconBlock(message=block, signature=bls.sign(self.sk, root))

    def randao(self, epoch: int) -> bytes:
        root = compute_signing_root(
            Epoch(epoch).hash_tree_root(), self.domain(DOMAIN_RANDAO, epoch)
        )
        return bls.sign(self.sk, root)

    def propose(self, slot: int) -> bytes:
        epoch = slot // self.node.cfg.slots_per_epoch
        block = self.node.produce_block(slot, self.randao(epoch), b"plain validator").block
        root = self.node.submit_block(self.sign_block(block))
        self.proposed.append(slot)
        return root

    def single_attestation(self, slot: int, committee_index: int, data=None) -> SingleAttestation:
        data = data or self.node.attestation_data(slot, committee_index)
        domain = self.domain(DOMAIN_BEACON_ATTESTER, int(data.target.epoch))
        sig = bls.sign(self.sk, compute_signing_root(data.hash_tree_root(), domain))
        return SingleAttestation(
            committee_index=committee_index, attester_index=self.index, data=data, signature=sig
        )

    def attest(self, slot: int, committee_index: int) -> None:
        self.node.submit_attestations([self.single_attestation(slot, committee_index)])
        self.attested.append(slot)

    def voluntary_exit(self) -> c.SignedVoluntaryExit:
        message = VoluntaryExit(epoch=self.node.current_slot() // 8, validator_index=self.index)
        state = self.node.signing_state()
        domain = compute_domain(
            DOMAIN_VOLUNTARY_EXIT,
            self.node.cfg.chain.voluntary_exit_fork_version,
            state.genesis_validators_root,
        )
        sig = bls.sign(self.sk, compute_signing_root(message.hash_tree_root(), domain))
        return c.SignedVoluntaryExit(message=message, signature=sig)

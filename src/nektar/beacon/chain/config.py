"""Constants of the devnet beacon chain: the consensus specs' names, devnet-sized values.

Container limits (MAX_VALIDATORS_PER_COMMITTEE, SYNC_COMMITTEE_SIZE, MAX_ATTESTATIONS_ELECTRA…)
are the mainnet preset's and fixed in `containers.py`; everything here may differ per chain.
Devnet defaults follow the *minimal* preset where the spec has one (shuffle rounds, history
vector lengths, withdrawal sweep) and shrink the waiting periods that tests would otherwise
have to fast-forward through (withdrawability delay, shard committee period, sync period).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nektar.crypto.networks import ChainConfig, devnet
from nektar.crypto.signing import (
    MAX_COMMITTEES_PER_SLOT,
    MAX_VALIDATORS_PER_COMMITTEE,
    SYNC_COMMITTEE_SIZE,
    SYNC_COMMITTEE_SUBNET_COUNT,
)

GWEI_PER_ETH = 10**9
FAR_FUTURE_EPOCH = 2**64 - 1
GENESIS_SLOT = 0
GENESIS_EPOCH = 0
UNSET_DEPOSIT_REQUESTS_START_INDEX = 2**64 - 1

TIMELY_SOURCE_FLAG_INDEX = 0
TIMELY_TARGET_FLAG_INDEX = 1
TIMELY_HEAD_FLAG_INDEX = 2
TIMELY_SOURCE_WEIGHT = 14
TIMELY_TARGET_WEIGHT = 26
TIMELY_HEAD_WEIGHT = 14
SYNC_REWARD_WEIGHT = 2
PROPOSER_WEIGHT = 8
WEIGHT_DENOMINATOR = 64
PARTICIPATION_FLAG_WEIGHTS = (TIMELY_SOURCE_WEIGHT, TIMELY_TARGET_WEIGHT, TIMELY_HEAD_WEIGHT)
JUSTIFICATION_BITS_LENGTH = 4
ETH1_ADDRESS_WITHDRAWAL_PREFIX = b"\x01"
COMPOUNDING_WITHDRAWAL_PREFIX = b"\x02"


def devnet_chain(**kwargs: object) -> ChainConfig:
    """The devnet's ChainConfig with Electra as the last fork: this chain implements Electra,
    so Fulu is scheduled at FAR_FUTURE_EPOCH (never)."""
    return devnet(fork_epochs={"fulu": FAR_FUTURE_EPOCH}, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BeaconConfig:
    """Every tunable constant of the chain; `chain` carries forks, genesis and timing."""

    chain: ChainConfig = field(default_factory=lambda: devnet_chain())
    shuffle_round_count: int = 10
    target_committee_size: int = 128
    max_seed_lookahead: int = 4
    min_seed_lookahead: int = 1
    min_attestation_inclusion_delay: int = 1
    epochs_per_historical_vector: int = 64
    epochs_per_slashings_vector: int = 64
    slots_per_historical_root: int = 64
    epochs_per_sync_committee_period: int = 8
    target_aggregators_per_committee: int = 16
    target_aggregators_per_sync_subcommittee: int = 16
    min_validator_withdrawability_delay: int = 2
    shard_committee_period: int = 2
    min_epochs_to_inactivity_penalty: int = 4
    ejection_balance: int = 16 * GWEI_PER_ETH
    min_activation_balance: int = 32 * GWEI_PER_ETH
    max_effective_balance_electra: int = 2048 * GWEI_PER_ETH
    effective_balance_increment: int = GWEI_PER_ETH
    min_per_epoch_churn_limit_electra: int = 64 * GWEI_PER_ETH
    max_per_epoch_activation_exit_churn_limit: int = 128 * GWEI_PER_ETH
    churn_limit_quotient: int = 32
    max_pending_deposits_per_epoch: int = 16
    base_reward_factor: int = 64
    hysteresis_quotient: int = 4
    hysteresis_downward_multiplier: int = 1
    hysteresis_upward_multiplier: int = 5
    inactivity_penalty_quotient: int = 2**24
    inactivity_score_bias: int = 4
    inactivity_score_recovery_rate: int = 16
    min_slashing_penalty_quotient: int = 4096
    whistleblower_reward_quotient: int = 4096
    proportional_slashing_multiplier: int = 3
    max_withdrawals_per_payload: int = 16
    max_validators_per_withdrawals_sweep: int = 16
    gas_limit: int = 30_000_000

    @property
    def slots_per_epoch(self) -> int:
        return self.chain.slots_per_epoch

    @property
    def seconds_per_slot(self) -> int:
        return self.chain.seconds_per_slot

    def spec_dict(self) -> dict[str, str]:
        """The /eth/v1/config/spec view: spec names, values as decimal or 0x-hex strings."""
        out = {k.upper(): str(v) for k, v in asdict(self).items() if k != "chain"}
        out.update(
            SECONDS_PER_SLOT=str(self.seconds_per_slot),
            SLOTS_PER_EPOCH=str(self.slots_per_epoch),
            MAX_COMMITTEES_PER_SLOT=str(MAX_COMMITTEES_PER_SLOT),
            MAX_VALIDATORS_PER_COMMITTEE=str(MAX_VALIDATORS_PER_COMMITTEE),
            SYNC_COMMITTEE_SIZE=str(SYNC_COMMITTEE_SIZE),
            SYNC_COMMITTEE_SUBNET_COUNT=str(SYNC_COMMITTEE_SUBNET_COUNT),
            FAR_FUTURE_EPOCH=str(FAR_FUTURE_EPOCH),
            DEPOSIT_CHAIN_ID=str(self.chain.deposit_chain_id),
            DEPOSIT_NETWORK_ID=str(self.chain.deposit_chain_id),
            DEPOSIT_CONTRACT_ADDRESS=self.chain.deposit_contract_address or "0x" + "00" * 20,
            MAX_EFFECTIVE_BALANCE=str(self.min_activation_balance),
            MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA=str(self.min_slashing_penalty_quotient),
            WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA=str(self.whistleblower_reward_quotient),
            INACTIVITY_PENALTY_QUOTIENT_BELLATRIX=str(self.inactivity_penalty_quotient),
            PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX=str(self.proportional_slashing_multiplier),
        )
        for fork in self.chain.forks:
            out[f"{fork.name.upper()}_FORK_VERSION"] = "0x" + fork.version.hex()
            if fork.name != "phase0":
                out[f"{fork.name.upper()}_FORK_EPOCH"] = str(fork.epoch)
        out["GENESIS_FORK_VERSION"] = "0x" + self.chain.genesis_fork_version.hex()
        return out

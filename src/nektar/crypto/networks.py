"""Chain configurations: what a signer must know about a beacon chain to compute its domains.

A signature is only valid on one chain and one fork: the domain mixes the fork version that is
current at the message's epoch with the chain's genesis validators root. These objects hold the
fork schedule, the genesis values and the timing of the public networks (values from the
eth-clients network configs), plus a `devnet(...)` constructor for local chains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from nektar.crypto.signing import compute_domain

FAR_FUTURE_EPOCH = 2**64 - 1
FORK_NAMES = ("phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu")


class NetworkConfigError(ValueError):
    """An unknown network name or an inconsistent chain configuration."""


@dataclass(frozen=True)
class Fork:
    """One entry of the fork schedule: the version in force from `epoch` on."""

    name: str
    version: bytes
    epoch: int


@dataclass(frozen=True)
class ChainConfig:
    """The consensus-layer facts a validator client needs to sign for one chain."""

    name: str
    forks: tuple[Fork, ...]
    genesis_validators_root: bytes
    genesis_time: int
    slots_per_epoch: int
    seconds_per_slot: int
    deposit_contract_address: str | None
    deposit_chain_id: int

    def __post_init__(self) -> None:
        if not self.forks or self.forks[0].epoch != 0:
            raise NetworkConfigError(f"{self.name}: the fork schedule must start at epoch 0")
        epochs = [f.epoch for f in self.forks]
        if epochs != sorted(epochs):
            raise NetworkConfigError(f"{self.name}: fork epochs must not decrease")
        if any(len(f.version) != 4 for f in self.forks):
            raise NetworkConfigError(f"{self.name}: fork versions are 4 bytes")
        if len(self.genesis_validators_root) != 32:
            raise NetworkConfigError(f"{self.name}: the genesis validators root is 32 bytes")
        if self.slots_per_epoch <= 0 or self.seconds_per_slot <= 0:
            raise NetworkConfigError(f"{self.name}: slot and epoch lengths must be positive")

    @property
    def genesis_fork_version(self) -> bytes:
        """Version of the first fork: deposits and builder registrations are signed with it."""
        return self.forks[0].version

    def fork(self, name: str) -> Fork:
        """The scheduled fork called `name` (e.g. "capella")."""
        for fork in self.forks:
            if fork.name == name:
                return fork
        raise NetworkConfigError(f"{self.name} has no fork named {name!r}")

    def fork_at_epoch(self, epoch: int) -> Fork:
        """The fork in force at `epoch` (the last one whose epoch is ≤ it)."""
        if epoch < 0:
            raise NetworkConfigError(f"epoch must be ≥ 0, got {epoch}")
        current = self.forks[0]
        for fork in self.forks:
            if fork.epoch <= epoch:
                current = fork
        return current

    def fork_version_at_epoch(self, epoch: int) -> bytes:
        """The fork version whose domain signs messages of `epoch`."""
        return self.fork_at_epoch(epoch).version

    @property
    def voluntary_exit_fork_version(self) -> bytes:
        """EIP-7044: from Deneb on, voluntary exits are always signed with the Capella version."""
        return self.fork("capella").version

    def epoch_at_slot(self, slot: int) -> int:
        return slot // self.slots_per_epoch

    def slot_start_time(self, slot: int) -> int:
        """Unix time at which `slot` starts."""
        return self.genesis_time + slot * self.seconds_per_slot

    def slot_at_time(self, unix_time: float) -> int:
        """The slot in progress at `unix_time` (0 before genesis)."""
        return max(0, int(unix_time - self.genesis_time) // self.seconds_per_slot)

    def domain(self, domain_type: bytes, epoch: int) -> bytes:
        """The signature domain of `domain_type` for a message of `epoch` on this chain."""
        return compute_domain(
            domain_type, self.fork_version_at_epoch(epoch), self.genesis_validators_root
        )

    def with_genesis(self, genesis_validators_root: bytes, genesis_time: int) -> ChainConfig:
        """The same chain once its genesis is known (a devnet learns its root at genesis)."""
        return replace(
            self, genesis_validators_root=genesis_validators_root, genesis_time=genesis_time
        )


def _schedule(versions: tuple[str, ...], epochs: tuple[int, ...]) -> tuple[Fork, ...]:
    return tuple(
        Fork(name, bytes.fromhex(v), e)
        for name, v, e in zip(FORK_NAMES, versions, epochs, strict=True)
    )


MAINNET = ChainConfig(
    name="mainnet",
    forks=_schedule(
        ("00000000", "01000000", "02000000", "03000000", "04000000", "05000000", "06000000"),
        (0, 74240, 144896, 194048, 269568, 364032, 411392),
    ),
    genesis_validators_root=bytes.fromhex(
        "4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"
    ),
    genesis_time=1606824023,
    slots_per_epoch=32,
    seconds_per_slot=12,
    deposit_contract_address="0x00000000219ab540356cBB839Cbe05303d7705Fa",
    deposit_chain_id=1,
)

HOLESKY = ChainConfig(
    name="holesky",
    forks=_schedule(
        ("01017000", "02017000", "03017000", "04017000", "05017000", "06017000", "07017000"),
        (0, 0, 0, 256, 29696, 115968, 165120),
    ),
    genesis_validators_root=bytes.fromhex(
        "9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1"
    ),
    genesis_time=1695902400,
    slots_per_epoch=32,
    seconds_per_slot=12,
    deposit_contract_address="0x4242424242424242424242424242424242424242",
    deposit_chain_id=17000,
)

SEPOLIA = ChainConfig(
    name="sepolia",
    forks=_schedule(
        ("90000069", "90000070", "90000071", "90000072", "90000073", "90000074", "90000075"),
        (0, 50, 100, 56832, 132608, 222464, 272640),
    ),
    genesis_validators_root=bytes.fromhex(
        "d8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078"
    ),
    genesis_time=1655733600,
    slots_per_epoch=32,
    seconds_per_slot=12,
    deposit_contract_address="0x7f02C3E3c98b133055B8B348B2Ac625669Ed295D",
    deposit_chain_id=11155111,
)

HOODI = ChainConfig(
    name="hoodi",
    forks=_schedule(
        ("10000910", "20000910", "30000910", "40000910", "50000910", "60000910", "70000910"),
        (0, 0, 0, 0, 0, 2048, 50688),
    ),
    genesis_validators_root=bytes.fromhex(
        "212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f"
    ),
    genesis_time=1742213400,
    slots_per_epoch=32,
    seconds_per_slot=12,
    deposit_contract_address="0x00000000219ab540356cBB839Cbe05303d7705Fa",
    deposit_chain_id=560048,
)

NETWORKS: Mapping[str, ChainConfig] = {c.name: c for c in (MAINNET, HOLESKY, SEPOLIA, HOODI)}


def network(name: str) -> ChainConfig:
    """The configuration of a public network by name (mainnet, holesky, sepolia, hoodi)."""
    try:
        return NETWORKS[name]
    except KeyError:
        known = ", ".join(NETWORKS)
        raise NetworkConfigError(f"unknown network {name!r}; known: {known}, or a devnet") from None


def devnet(
    *,
    name: str = "devnet",
    genesis_validators_root: bytes = b"\x00" * 32,
    genesis_time: int = 0,
    slots_per_epoch: int = 8,
    seconds_per_slot: int = 2,
    genesis_fork_version: bytes = bytes.fromhex("10004e4b"),
    fork_epochs: Mapping[str, int] | None = None,
    deposit_contract_address: str | None = None,
    deposit_chain_id: int = 31337,
) -> ChainConfig:
    """A local chain: 2 s slots, 8 slots per epoch, every fork through Fulu active at genesis
    unless `fork_epochs` says otherwise. Fork i's version is the genesis version with its first
    byte raised by i, so versions are distinct per fork and per genesis version."""
    if len(genesis_fork_version) != 4:
        raise NetworkConfigError("the genesis fork version is 4 bytes")
    epochs = dict.fromkeys(FORK_NAMES, 0)
    for fork_name, epoch in (fork_epochs or {}).items():
        if fork_name not in epochs:
            raise NetworkConfigError(f"unknown fork {fork_name!r}; forks: {', '.join(FORK_NAMES)}")
        epochs[fork_name] = epoch
    forks = tuple(
        Fork(
            fork_name,
            bytes([(genesis_fork_version[0] + i) % 256]) + genesis_fork_version[1:],
            epochs[fork_name],
        )
        for i, fork_name in enumerate(FORK_NAMES)
    )
    return ChainConfig(
        name=name,
        forks=forks,
        genesis_validators_root=genesis_validators_root,
        genesis_time=genesis_time,
        slots_per_epoch=slots_per_epoch,
        seconds_per_slot=seconds_per_slot,
        deposit_contract_address=deposit_contract_address,
        deposit_chain_id=deposit_chain_id,
    )

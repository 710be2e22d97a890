"""Node configuration: a TOML file, `STINGER_*` environment variables and command-line flags.

Precedence (highest first): flags, environment, TOML file, defaults. Every path that is not
set explicitly lives in the data directory (see `datadir.DataDir`), so a node needs nothing
but `--data-dir` to restart where it stopped.
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_TOML_FILE: ContextVar[Path | None] = ContextVar("stinger_toml_file", default=None)


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which setting and how to fix it."""


class StingerSettings(BaseSettings):
    """Everything `stinger run` needs; see docs/stinger.md for each setting."""

    model_config = SettingsConfigDict(env_prefix="STINGER_", extra="forbid")

    data_dir: Path = Path("~/.stinger")
    beacon_urls: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:5052"])
    beacon_timeout: float = 4.0
    chain: str = "inprocess"  # an EVM JSON-RPC URL, or "inprocess" for the embedded devnet
    # the Diva ValidatorRegistry (0x…): with it, and `chain` a JSON-RPC URL, the node runs the
    # chain services (DKG engine, oracle reporter, lifecycle; docs/stinger-chain.md)
    validator_registry: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    node_key_file: Path | None = None  # default <data_dir>/node_key.json
    password_file: Path | None = None  # default <data_dir>/password.txt
    p2p_host: str = "127.0.0.1"
    p2p_port: int = Field(default=9000, ge=0, le=65535)
    peers: list[str] = Field(default_factory=list)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=3600, ge=0, le=65535)
    metrics_port: int | None = Field(default=3620, ge=0, le=65535)
    # Sync-committee contributions need a threshold selection proof per (member, subcommittee)
    # every slot: negligible on a real network (a validator rarely sits in the committee), but
    # on a small devnet every validator sits in all four subcommittees; benchmarks of many
    # validators on such a devnet turn it off.
    sync_contributions: bool = True
    # Sync-committee messages (and so contributions) at all: a devnet of a few thousand
    # validators seats ~40 % of them in the 512-seat committee every slot (a real network: a
    # 1,000-validator cluster holds ~0.5 seat); the node benchmark turns them off.
    sync_messages: bool = True
    # Attest as soon as the beacon node reports the slot's block (SSE head events), else at
    # 1/3 slot; false: always at 1/3 slot (a beacon node without the event stream needs no
    # setting: the node falls back by itself).
    head_events: bool = True
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Test hooks for the fault-tolerance tests (a byzantine member): "wrong-partials" sends
    # partial signatures under a random key, "bad-proposals" proposes invalid values when it
    # leads a QBFT round. Peers must drop them, log the sender and still complete every duty.
    fault: list[Literal["wrong-partials", "bad-proposals"]] = Field(default_factory=list)

    @field_validator("beacon_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        if not urls:
            raise ValueError("at least one beacon node URL is needed")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return [u.rstrip("/") for u in urls]

    @field_validator("chain")
    @classmethod
    def _chain(cls, chain: str) -> str:
        if chain != "inprocess" and not chain.startswith(("http://", "https://", "ws://")):
            raise ValueError(f"{chain!r} is neither 'inprocess' nor a JSON-RPC URL")
        return chain

    @field_validator("peers")
    @classmethod
    def _peers(cls, peers: list[str]) -> list[str]:
        for peer in peers:
            parse_peer(peer)
        return peers

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _TOML_FILE.get()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser()

    def peer_overrides(self) -> dict[bytes, tuple[str, int]]:
        return dict(parse_peer(p) for p in self.peers)


def parse_peer(text: str) -> tuple[bytes, tuple[str, int]]:
    """`0x<40 hex>@host:port` → (address, (host, port))."""
    try:
        address, endpoint = text.split("@", 1)
        host, port = endpoint.rsplit(":", 1)
        raw = bytes.fromhex(address.removeprefix("0x"))
        number = int(port)
    except ValueError:
        raise ValueError(f"peer {text!r} is not 0x<node address>@host:port") from None
    if len(raw) != 20 or not host or not 0 < number < 65536:
        raise ValueError(f"peer {text!r} is not 0x<20-byte node address>@host:port")
    return raw, (host, number)


def load_settings(config_file: Path | None = None, **overrides: Any) -> StingerSettings:
    """Settings from the TOML file (if given), the environment and `overrides` (flags; None
    values mean "not given" and are skipped). Raises ConfigError naming the bad setting."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} does not exist (fix --config)")
        try:
            tomllib.loads(config_file.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
    token = _TOML_FILE.set(config_file)
    try:
        return StingerSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"invalid configuration ({problems}); fix the flag, the STINGER_* variable or "
            "the TOML key of that name"
        ) from None
    finally:
        _TOML_FILE.reset(token)

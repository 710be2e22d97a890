"""Stage-level tests of the node: configuration, data directory, duty store, the
partial-signature codec and the aggregator (real BLS shares from a real DKG)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto import bls
from nektar.crypto.node_key import NodeKey
from nektar.stinger.aggregator import Aggregator
from nektar.stinger.config import ConfigError, load_settings
from nektar.stinger.datadir import (
    ClusterDefinition,
    ClusterStore,
    DataDir,
    DataDirError,
    Member,
    Validator,
    write_definition,
)
from nektar.stinger.duties import Duty, DutyType
from nektar.stinger.dutystore import DutyConflictError, DutyStore
from nektar.stinger.parsigex import ParsigMessageError, decode, encode
from nektar.stinger.signer import Partial

from .harness import FAST_KDF, dkg_keys

# ---------------------------------------------------------------- configuration


def test_settings_precedence_flag_over_env_over_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "stinger.toml"
    toml.write_text('beacon_urls = ["http://toml:1"]\np2p_port = 1111\napi_port = 2222\n')
    monkeypatch.setenv("STINGER_P2P_PORT", "3333")
    settings = load_settings(toml, api_port=4444)
    assert settings.beacon_urls == ["http://toml:1"]
    assert settings.p2p_port == 3333  # env beats TOML
    assert settings.api_port == 4444  # flag beats everything


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"beacon_urls": ["ftp://x"]}, "beacon_urls"),
        ({"p2p_port": 70000}, "p2p_port"),
        ({"peers": ["nonsense"]}, "peers"),
        ({"chain": "somewhere"}, "chain"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_bad_settings_name_the_setting(overrides: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(None, **overrides)


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text("beacon_urls = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(toml)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_peer_overrides_parse() -> None:
    address = "0x" + "ab" * 20
    settings = load_settings(None, peers=[f"{address}@10.0.0.1:9000"])
    assert settings.peer_overrides() == {bytes.fromhex("ab" * 20): ("10.0.0.1", 9000)}


# ---------------------------------------------------------------- data directory


@pytest.fixture(scope="module")
def outcomes():  # type: ignore[no-untyped-def]
    return dkg_keys(4, 3, 2)


def _definition(outcomes, index: int, key_no: int = 0) -> ClusterDefinition:  # type: ignore[no-untyped-def]
    share = outcomes[index][key_no]
    return ClusterDefinition(
        group_pubkey="0x" + share.group_pubkey.hex(),
        threshold=3,
        members=[Member(address="0x" + bytes([i]).hex() * 20) for i in range(1, 5)],
        public_shares=["0x" + share.public_shares[j].hex() for j in range(1, 5)],
        my_index=index,
    )


def test_node_key_encrypted_and_plain(tmp_path: Path) -> None:
    key = NodeKey.generate()
    datadir = DataDir(tmp_path / "a")
    datadir.write_node_key(key, kdf_params={"n": 1024})
    assert datadir.load_node_key().address == key.address
    with pytest.raises(DataDirError, match="refusing to overwrite"):
        datadir.write_node_key(key)
    datadir.password_file.write_text("wrong")
    with pytest.raises(DataDirError, match="password"):
        datadir.load_node_key()
    plain = DataDir(tmp_path / "b")
    plain.create()
    plain.node_key_file.write_text(key.secret.hex() + "\n")
    assert plain.load_node_key().address == key.address
    with pytest.raises(DataDirError, match="stinger init"):
        DataDir(tmp_path / "empty").require()


def test_cluster_store_round_trip_and_runtime_add(tmp_path: Path, outcomes) -> None:  # type: ignore[no-untyped-def]
    datadir = DataDir(tmp_path)
    first = _definition(outcomes, 2)
    datadir.write_share(first.pubkey, outcomes[2][0].secret_share, **FAST_KDF)
    write_definition(datadir, first)
    store = ClusterStore(datadir)
    store.load()
    assert list(store.validators) == [first.pubkey]
    added: list[Validator] = []
    store.subscribe(added.append)
    second = _definition(outcomes, 2, 1)
    store.add(second, outcomes[2][1].secret_share)
    store.set_validator_index(second.pubkey, 7)
    assert [v.pubkey for v in added] == [second.pubkey]
    again = ClusterStore(datadir)
    again.load()
    assert again.validators[second.pubkey].index == 7
    assert again.validators[first.pubkey].share == outcomes[2][0].secret_share


def test_share_of_another_member_is_refused(tmp_path: Path, outcomes) -> None:  # type: ignore[no-untyped-def]
    datadir = DataDir(tmp_path)
    definition = _definition(outcomes, 1)
    datadir.write_share(definition.pubkey, outcomes[2][0].secret_share, **FAST_KDF)
    write_definition(datadir, definition)
    with pytest.raises(DataDirError, match="does not hold share 1"):
        ClusterStore(datadir).load()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"threshold": 5}, "threshold"),
        ({"my_index": 9}, "my_index"),
        ({"group_pubkey": "0x1234"}, "group_pubkey"),
        ({"public_shares": []}, "public shares"),
    ],
)
def test_bad_cluster_definition(outcomes, change: dict, needle: str) -> None:  # type: ignore[no-untyped-def]
    raw = _definition(outcomes, 1).model_dump() | change
    with pytest.raises(ValueError, match=needle):
        ClusterDefinition.model_validate(raw)


# ---------------------------------------------------------------- duty store


def test_duty_store_refuses_a_second_value_across_restarts(tmp_path: Path) -> None:
    duty, committee = Duty(DutyType.ATTESTER, 12), b"\x01" * 32
    store = DutyStore(tmp_path / "duties.sqlite")
    store.store(duty, committee, b"value-a")
    store.store(duty, committee, b"value-a")  # the same value again is fine
    store.store(duty, b"\x02" * 32, b"value-b")  # another committee has its own
    store.close()
    reopened = DutyStore(tmp_path / "duties.sqlite")
    assert reopened.get(duty, committee) == b"value-a"
    with pytest.raises(DutyConflictError):
        reopened.store(duty, committee, b"value-b")
    assert reopened.prune(13) == 2
    assert reopened.get(duty, committee) is None


# ---------------------------------------------------------------- parsigex codec


partials = st.lists(
    st.builds(
        Partial,
        st.binary(min_size=48, max_size=48),
        st.binary(min_size=32, max_size=32),
        st.binary(min_size=96, max_size=96),
    ),
    max_size=5,
)


@given(st.sampled_from(list(DutyType)), st.integers(0, 2**64 - 1), partials)
def test_parsig_codec_round_trip(kind: DutyType, slot: int, items: list[Partial]) -> None:
    duty = Duty(kind, slot)
    assert decode(encode(duty, items)) == (duty, items)


@given(st.binary(max_size=400))
def test_parsig_decoder_raises_only_its_error(data: bytes) -> None:
    try:
        duty, items = decode(data)
    except ParsigMessageError:
        return
    assert encode(duty, items) == data


# ---------------------------------------------------------------- aggregator


async def test_aggregator_combines_t_partials_of_one_root(outcomes) -> None:  # type: ignore[no-untyped-def]
    duty, root, other = Duty(DutyType.ATTESTER, 5), b"\x11" * 32, b"\x22" * 32
    validators = {
        i: Validator(_definition(outcomes, i), outcomes[i][0].secret_share) for i in range(1, 5)
    }
    group = validators[1].pubkey
    aggregator = Aggregator()
    sign = lambda i, r: (validators[1], r, i, bls.hash_to_g2(r).scalar_mul(validators[i].share))  # noqa: E731
    aggregator.add(duty, [sign(1, root), sign(2, other)])  # a member that signed another root
    waiting = asyncio.ensure_future(aggregator.collect(duty, [(group, root)], timeout=5))
    await asyncio.sleep(0)
    assert not waiting.done()
    aggregator.add(duty, [sign(3, root), sign(4, root)])
    signature = (await waiting)[group]
    assert bls.verify(group, root, signature)
    # nothing for `other`: only one member signed it
    assert await aggregator.collect(duty, [(group, other)], timeout=0.05) == {}


async def test_aggregator_drops_and_reports_a_bad_partial_then_combines(outcomes) -> None:  # type: ignore[no-untyped-def]
    """An unchecked wrong partial makes the combined signature fail: the aggregator finds
    it, reports its member, and completes with the next member's partial."""
    duty, root = Duty(DutyType.ATTESTER, 5), b"\x11" * 32
    validators = {
        i: Validator(_definition(outcomes, i), outcomes[i][0].secret_share) for i in range(1, 5)
    }
    group = validators[1].pubkey
    aggregator = Aggregator()
    reported: list[tuple[Duty, int]] = []
    aggregator.on_bad = lambda d, bad: reported.extend((d, i) for _, _, i in bad)
    sign = lambda i, sk: (validators[1], root, i, bls.hash_to_g2(root).scalar_mul(sk))  # noqa: E731
    aggregator.add(
        duty, [sign(1, validators[1].share), sign(2, 12345), sign(3, validators[3].share)]
    )
    assert reported == [(duty, 2)]
    assert not aggregator.complete(duty, group, root)
    aggregator.add(duty, [sign(4, validators[4].share)])
    signature = (await aggregator.collect(duty, [(group, root)], timeout=1))[group]
    assert bls.verify(group, root, signature)


# ---------------------------------------------------------------- chain from the beacon API


def test_chain_config_from_spec_matches_the_devnet() -> None:
    """The signing domains the node derives from /config/spec are the chain's own."""
    from nektar.beacon.chain.config import BeaconConfig, devnet_chain
    from nektar.crypto.signing import DOMAIN_BEACON_ATTESTER, DOMAIN_VOLUNTARY_EXIT
    from nektar.stinger.chaininfo import chain_config

    cfg = BeaconConfig(chain=devnet_chain(seconds_per_slot=1, slots_per_epoch=4))
    root = b"\x07" * 32
    chain = chain_config(1_700_000_000, root, cfg.spec_dict())
    expected = cfg.chain.with_genesis(root, 1_700_000_000)
    assert chain.slots_per_epoch == 4 and chain.seconds_per_slot == 1
    for epoch in (0, 5, 1000):
        assert chain.domain(DOMAIN_BEACON_ATTESTER, epoch) == expected.domain(
            DOMAIN_BEACON_ATTESTER, epoch
        )
    assert chain.voluntary_exit_fork_version == expected.voluntary_exit_fork_version
    assert chain.domain(DOMAIN_VOLUNTARY_EXIT, 3) == expected.domain(DOMAIN_VOLUNTARY_EXIT, 3)


@given(
    st.dictionaries(
        st.sampled_from(["group_pubkey", "threshold", "members", "public_shares", "my_index", "x"]),
        st.one_of(
            st.integers(-2, 5), st.text(max_size=8), st.lists(st.text(max_size=4), max_size=3)
        ),
    )
)
def test_cluster_definition_parser_rejects_with_its_error(raw: dict) -> None:
    """Whatever JSON a definition file holds, parsing fails only with a validation error."""
    from pydantic import ValidationError

    try:
        ClusterDefinition.model_validate(raw)
    except ValidationError:
        return


# ---------------------------------------------------------------- head events


async def test_head_tracker_wakes_on_the_slots_block_and_falls_back_to_the_deadline() -> None:
    """A head event for the slot ends the wait at once (the honest validator guide's "block
    seen"); without one the wait ends at its deadline, also against a beacon node that has no
    event stream at all."""
    import time

    from aiohttp import web

    from nektar.beacon.client import BeaconClient
    from nektar.beacon.server import BeaconAPIServer
    from nektar.stinger.fetcher import HeadTracker

    from .harness import devnet_beacon, free_port

    node = devnet_beacon([], genesis_delay=-60, seconds_per_slot=12, slots_per_epoch=4)
    server = BeaconAPIServer(node)
    client = BeaconClient([await server.start()])
    tracker = HeadTracker(client)
    tracker.start()
    try:
        early = asyncio.ensure_future(tracker.wait(1, time.time() + 20))
        await asyncio.sleep(0.3)  # subscribed
        started = time.monotonic()
        node.advance_slots(1)  # a managed validator proposes the slot-1 block
        assert await early is True
        assert time.monotonic() - started < 5
        started = time.monotonic()
        assert await tracker.wait(3, time.time() + 0.3) is False
        assert 0.25 < time.monotonic() - started < 3
        assert await tracker.wait(1, time.time() + 0.3) is True  # already seen: no wait
    finally:
        await tracker.stop()
        await client.close()
        await server.stop()

    app = web.Application()  # a beacon node without /eth/v1/events
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = BeaconClient([f"http://127.0.0.1:{port}"])
    tracker = HeadTracker(client)
    tracker.start()
    try:
        started = time.monotonic()
        assert await tracker.wait(1, time.time() + 0.5) is False
        assert 0.45 < time.monotonic() - started < 3
    finally:
        await tracker.stop()
        await client.close()
        await runner.cleanup()

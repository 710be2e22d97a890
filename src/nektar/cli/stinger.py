"""`stinger`: the operator node's command line.

Every expected failure (bad configuration, missing data directory, unreachable node, refused
request) is printed as one line saying what is wrong and how to fix it, with exit status 1;
there is no traceback.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

app = typer.Typer(
    name="stinger",
    help="Stinger: the Nektar operator node (distributed validators, network tasks).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML configuration file")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="node data directory")]


@app.callback()
def _root() -> None:
    """Stinger operator node."""


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _settings(config: Path | None, **overrides: Any):  # type: ignore[no-untyped-def]
    from nektar.stinger.config import ConfigError, load_settings

    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        _fail(str(exc))


def _datadir(config: Path | None, data_dir: Path | None):  # type: ignore[no-untyped-def]
    from nektar.stinger.datadir import DataDir

    settings = _settings(config, data_dir=data_dir)
    return settings, DataDir(settings.data_path, settings.node_key_file, settings.password_file)


@app.command()
def init(
    operator: Annotated[
        str | None, typer.Option(help="operator address (0x…) to bind the node key to")
    ] = None,
    chain_id: Annotated[int, typer.Option(help="chain id of the OperatorRegistry")] = 31337,
    registry: Annotated[
        str | None, typer.Option(help="OperatorRegistry contract address (0x…)")
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create the data directory and a node key; print the operator registration call."""
    from nektar.crypto import eip712
    from nektar.crypto.node_key import NodeKey
    from nektar.stinger.datadir import DataDirError

    _, datadir = _datadir(config, data_dir)
    if datadir.node_key_file.exists():
        try:
            key = datadir.load_node_key()
        except DataDirError as exc:
            _fail(str(exc))
        typer.echo(f"node key exists: {datadir.node_key_file}")
    else:
        key = NodeKey.generate()
        datadir.write_node_key(key)
        typer.echo(f"created node key {datadir.node_key_file}")
    datadir.create()
    typer.echo(f"node address: 0x{key.address.hex()}")
    if operator is None or registry is None:
        typer.echo("pass --operator and --registry to get the registration call to make")
        return
    try:
        domain = eip712.operator_registry_domain(chain_id, registry)
        binding = eip712.NodeKeyBinding(operator)
        signature = eip712.sign(key, domain, binding)
    except eip712.Eip712Error as exc:
        _fail(f"{exc} (check --operator and --registry)")
    typer.echo(f"binding signature: 0x{signature.hex()}")
    typer.echo(
        "register with, from the operator account:\n"
        f"  OperatorRegistry({registry}).register(0x{key.address.hex()}, 0x{signature.hex()}, "
        '"<metadata uri>", <fee recipient>)'
    )


@app.command()
def run(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    beacon_url: Annotated[
        list[str] | None, typer.Option(help="beacon node URL (repeat for fallbacks)")
    ] = None,
    p2p_port: Annotated[int | None, typer.Option(help="P2P listen port")] = None,
    api_port: Annotated[int | None, typer.Option(help="status/API port (127.0.0.1)")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Prometheus port")] = None,
    peer: Annotated[
        list[str] | None, typer.Option(help="0x<node address>@host:port (repeatable)")
    ] = None,
    log_format: Annotated[str | None, typer.Option(help="text or json")] = None,
) -> None:
    """Run the node until SIGINT/SIGTERM."""
    from nektar.crypto.slashing_protection import SlashingProtectionError
    from nektar.stinger.datadir import DataDirError
    from nektar.stinger.logs import setup_logging
    from nektar.stinger.node import StingerNode

    settings = _settings(
        config,
        data_dir=data_dir,
        beacon_urls=beacon_url or None,
        p2p_port=p2p_port,
        api_port=api_port,
        metrics_port=metrics_port,
        peers=peer or None,
        log_format=log_format,
    )
    setup_logging(settings.log_format, settings.log_level)
    try:
        node = StingerNode(settings)
    except DataDirError as exc:
        _fail(str(exc))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await node.run_forever(stop)

    try:
        asyncio.run(main())
    except OSError as exc:
        _fail(f"{exc} (is another node using these ports? change --p2p-port/--api-port)")
    except SlashingProtectionError as exc:
        _fail(f"slashing-protection database: {exc} (is this data directory for another chain?)")
    except DataDirError as exc:
        _fail(str(exc))


def _api_url(config: Path | None, data_dir: Path | None) -> str:
    _, datadir = _datadir(config, data_dir)
    run_file = datadir.root / "run.json"
    try:
        return json.loads(run_file.read_text())["api_url"]
    except (OSError, ValueError, KeyError):
        _fail(f"no running node found ({run_file} missing); start it with `stinger run`")


def _http(method: str, url: str, body: Any = None, timeout: float = 10) -> Any:
    import aiohttp

    async def call() -> Any:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.request(method, url, json=body) as response,
        ):
            data = await response.json()
            if response.status >= 400:
                _fail(f"node refused: {data.get('error', data)}")
            return data

    try:
        return asyncio.run(call())
    except (aiohttp.ClientError, TimeoutError) as exc:
        _fail(f"cannot reach the node at {url}: {exc or 'timeout'} (is `stinger run` up?)")


@app.command()
def status(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print what the running node is doing (its /status endpoint)."""
    typer.echo(json.dumps(_http("GET", _api_url(config, data_dir) + "/status"), indent=2))


@app.command("exit")
def exit_(
    validator: Annotated[str, typer.Option(help="validator public key (0x…)")],
    epoch: Annotated[
        int | None,
        typer.Option(help="exit epoch; default: the first epoch the validator may exit"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the cluster")] = 120,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Sign this node's share of a voluntary exit; submitted once t operators have done so."""
    url = _api_url(config, data_dir) + "/exit"
    body = {"pubkey": validator, "epoch": epoch, "timeout": timeout}
    result = _http("POST", url, body, timeout=timeout + 10)
    if not result.get("submitted"):
        _fail(
            f"exit for epoch {result.get('epoch')} not complete: fewer than t operators signed "
            "it in time; ask the other operators to run the same command"
        )
    typer.echo(f"voluntary exit at epoch {result['epoch']} submitted")


def _protection(  # type: ignore[no-untyped-def]
    config: Path | None, data_dir: Path | None, genesis_root: str | None
):
    """The node's EIP-3076 database; its chain comes from the file, or the flag if new."""
    from nektar.crypto.slashing_protection import SlashingProtectionDB, SlashingProtectionError

    _, datadir = _datadir(config, data_dir)
    if genesis_root is None:
        if not datadir.slashing_db.exists():
            _fail(
                f"{datadir.slashing_db} does not exist; pass --genesis-validators-root "
                "(or run the node once)"
            )
        import sqlite3

        conn = sqlite3.connect(datadir.slashing_db)
        row = conn.execute(
            "SELECT value FROM metadata WHERE key = 'genesis_validators_root'"
        ).fetchone()
        conn.close()
        root = bytes(row[0])
    else:
        try:
            root = bytes.fromhex(genesis_root.removeprefix("0x"))
        except ValueError:
            _fail("--genesis-validators-root is not hex")
    try:
        datadir.create()
        return SlashingProtectionDB(datadir.slashing_db, root)
    except (SlashingProtectionError, ValueError) as exc:
        _fail(str(exc))


GenesisOpt = Annotated[
    str | None, typer.Option(help="genesis validators root (0x…) if the database is new")
]


@app.command("export-slashing-protection")
def export_slashing_protection(
    output: Annotated[Path, typer.Argument(help="interchange file to write (EIP-3076)")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    genesis_validators_root: GenesisOpt = None,
) -> None:
    """Write the node's slashing-protection history as an EIP-3076 interchange file."""
    with _protection(config, data_dir, genesis_validators_root) as db:
        document = db.export_interchange()
    output.write_text(json.dumps(document, indent=2))
    typer.echo(f"exported {len(document['data'])} validator(s) to {output}")


@app.command("import-slashing-protection")
def import_slashing_protection(
    source: Annotated[Path, typer.Argument(help="EIP-3076 interchange file")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    genesis_validators_root: GenesisOpt = None,
) -> None:
    """Merge an EIP-3076 interchange file into the node's slashing-protection database."""
    from nektar.crypto.slashing_protection import SlashingProtectionError

    try:
        text = source.read_text()
    except OSError as exc:
        _fail(f"cannot read {source}: {exc}")
    with _protection(config, data_dir, genesis_validators_root) as db:
        try:
            count = db.import_interchange(text)
        except SlashingProtectionError as exc:
            _fail(f"{exc} (nothing was imported)")
    typer.echo(f"imported slashing-protection data of {count} validator(s)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

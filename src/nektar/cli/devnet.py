"""`nektar devnet up` (= `nektar demo`): the live network and its scenario in a rich Live view;
`nektar devnet beacon …`: the devnet beacon chain process alone.

The view shows the chapters, the beacon chain (slot, finalized epoch), each node's status
(up/down, peers, duty outcomes from its status endpoint), the validators (registry and
beacon states, balances) and the divETH rate; it ends with a summary table. A failure is one
plain line naming what failed (and the log directory), exit status 1; Ctrl-C tears down too.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from nektar.cli.main import app
from nektar.devnet.network import Network
from nektar.devnet.processes import DevnetError
from nektar.devnet.restaking_demo import BalanceSheet
from nektar.devnet.scenario import Monitor, Progress, Scenario, new_progress

devnet_app = typer.Typer(help="The live local network (anvil, beacon chain, Stinger nodes).")
app.add_typer(devnet_app, name="devnet")

STATE_STYLE = {"pending": "dim", "running": "bold yellow", "done": "green", "failed": "bold red"}


def render(progress: Progress, started: float) -> Group:
    head = (
        f"[bold]slot[/bold] {progress.slot}   [bold]finalized epoch[/bold] "
        f"{progress.finalized_epoch}   [bold]divETH rate[/bold] {float(progress.rate):.9f}   "
        f"[bold]elapsed[/bold] {time.monotonic() - started:.0f} s"
    )
    chapters = Table(show_header=False, box=None, pad_edge=False)
    for c in progress.chapters:
        style = STATE_STYLE[c.state]
        took = f"{c.elapsed:.0f} s" if c.state in ("done", "failed") else ""
        chapters.add_row(f"[{style}]{c.state:8}[/{style}]", c.title, f"[dim]{c.detail}[/dim]", took)
    nodes = Table(title="nodes (status endpoint)", expand=False)
    for column in ("node", "up", "slot", "peers", "validators", "duties ok/failed (recent)"):
        nodes.add_column(column)
    for name, n in progress.nodes.items():
        duties = "  ".join(f"{d} {ok}/{bad}" for d, (ok, bad) in sorted(n["duties"].items()))
        nodes.add_row(
            name,
            "[green]up[/green]" if n["up"] else "[red]down[/red]",
            str(n["slot"] if n["slot"] is not None else "-"),
            str(n["peers"]),
            str(n["validators"]),
            duties,
        )
    validators = Table(title="validators", expand=False)
    for column in ("id", "pubkey", "registry", "beacon", "index", "balance (ETH)"):
        validators.add_column(column)
    for vid, v in sorted(progress.validators.items()):
        validators.add_row(
            str(vid),
            "0x" + v["pubkey"].hex()[:12] + "…",
            v["registry"],
            v["beacon"],
            str(v["index"] if v["index"] is not None else "-"),
            f"{v['balance'] / 1e9:.6f}",
        )
    events = "\n".join(progress.events[-6:])
    return Group(
        Panel(head, title="Nektar devnet"),
        chapters,
        nodes,
        validators,
        Panel(events or "-", title="events"),
    )


def summary(progress: Progress) -> Table:
    table = Table(title="Summary")
    table.add_column("chapter")
    table.add_column("result")
    table.add_column("time", justify="right")
    table.add_column("detail")
    for c in progress.chapters:
        style = STATE_STYLE[c.state]
        table.add_row(c.title, f"[{style}]{c.state}[/{style}]", f"{c.elapsed:.0f} s", c.detail)
    table.add_row(
        "divETH rate", "", "", f"{float(progress.rate_start):.9f} → {float(progress.rate):.9f}"
    )
    table.add_row("DKG performed by", "", "", progress.dkg_by or "-")
    for name, value in progress.figures.items():
        table.add_row(name, "", "", value)
    return table


def balance_table(sheet: BalanceSheet) -> Table:
    """The restaking chapters' balances after each stage (token units, 18 decimals)."""
    table = Table(title="Restaking balances (after each chapter)")
    for column in ("party", "balance", *sheet.stages, "change"):
        table.add_column(column, justify="left" if column in ("party", "balance") else "right")
    for (party, item), values in sheet.rows.items():
        change = values[-1] - values[0]
        table.add_row(
            party,
            item,
            *(f"{v / 10**18:,.6f}" for v in values),
            f"{'+' if change >= 0 else '-'}{abs(change) / 10**18:,.6f}",
        )
    return table


def run_network_demo(console: Console, run_dir: Path | None) -> int:
    """Bring the network up, run the scenario in a live view, tear down; the exit status."""
    run_dir = run_dir or Path(tempfile.mkdtemp(prefix="nektar-devnet-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"run directory (logs, node data): {run_dir}")
    progress = new_progress()
    net = Network(run_dir)
    started = time.monotonic()
    monitor: Monitor | None = None
    failure = ""
    try:
        with Live(
            console=console,
            refresh_per_second=2,
            get_renderable=lambda: render(progress, started),
            vertical_overflow="visible",
        ):
            first = progress.chapters[0]
            first.state, first.started = "running", time.monotonic()
            net.start()
            first.state, first.elapsed = "done", time.monotonic() - first.started
            first.detail = f"anvil {net.backend.url}, beacon {net.beacon_url}, 4 nodes"
            scenario = Scenario(net, progress)
            progress.rate_start = net.system.lst.rate()
            monitor = Monitor(net, progress)
            monitor.start()
            scenario.run()
            monitor.poll()
    except KeyboardInterrupt:
        failure = "interrupted (Ctrl-C)"
    except Exception as exc:  # the command's boundary: a plain message, never a traceback
        failure = f"{type(exc).__name__}: {exc}" if not isinstance(exc, DevnetError) else str(exc)
    finally:
        if monitor is not None:
            monitor.stop()
        for chapter in progress.chapters:
            if chapter.state == "running":
                chapter.state = "failed"
        net.stop()
    console.print(summary(progress))
    if progress.balances is not None and progress.balances.stages:
        console.print(balance_table(progress.balances))
    if failure:
        console.print(f"[bold red]devnet failed:[/bold red] {failure}", highlight=False)
        console.print(f"logs: {run_dir / 'logs'}")
        return 1
    console.print(
        f"[bold green]devnet scenario complete[/bold green] in {time.monotonic() - started:.0f} s"
    )
    return 0


@devnet_app.command("up")
def up(
    run_dir: Annotated[
        Path | None, typer.Option(help="logs and node data (default: a temp dir)")
    ] = None,
) -> None:
    """Start the network, run the base-layer scenario live, tear everything down."""
    raise typer.Exit(run_network_demo(Console(), run_dir))


@devnet_app.command(
    "beacon", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def beacon(ctx: typer.Context) -> None:
    """The devnet beacon chain process (flags: see `python -m nektar.devnet.beacon --help`)."""
    from nektar.devnet.beacon import main

    main(list(ctx.args))

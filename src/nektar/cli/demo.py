"""`nektar demo`: the staker walkthrough on an in-process EVM, shown live, then summarised."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nektar.cli.main import app
from nektar.devnet.walkthrough import Step, WalkthroughResult, run_walkthrough

ETH = 10**18


def _eth(wei: int) -> str:
    return f"{float(Fraction(wei, ETH)):,.6f}"


def _step_line(step: Step) -> str:
    gas = f" [dim]({step.gas_used:,} gas)[/dim]" if step.gas_used is not None else ""
    return f"[bold cyan]{step.title}[/bold cyan]  {step.detail}{gas}"


def staker_table(result: WalkthroughResult) -> Table:
    table = Table(title="Stakers (amounts in ETH / divETH)")
    for column in ("staker", "deposited", "wrapped", "withdrawn", "divETH now", "ETH change"):
        table.add_column(column, justify="left" if column == "staker" else "right")
    for staker in result.stakers:
        change = staker.eth_end - staker.eth_start
        table.add_row(
            staker.name,
            _eth(staker.deposited),
            _eth(staker.wrapped),
            _eth(staker.claimed),
            _eth(staker.div_eth_end),
            ("+" if change >= 0 else "-") + _eth(abs(change)),
        )
    return table


def protocol_table(result: WalkthroughResult) -> Table:
    table = Table(title="Protocol")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("divETH rate before", f"{float(result.rate_before):.9f} ETH/share")
    table.add_row("divETH rate after", f"{float(result.rate_after):.9f} ETH/share")
    table.add_row("total pooled ETH", _eth(result.total_pooled_ether))
    table.add_row("reported beacon balance", _eth(result.beacon_balance))
    table.add_row(
        "beacon deposits / root", f"{result.deposit_count} / 0x{result.deposit_root.hex()}"
    )
    return table


def gas_table(result: WalkthroughResult) -> Table:
    table = Table(title="Gas used")
    for column in ("operation", "transactions", "gas each", "total"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for operation, used in result.gas.items():
        each = f"{min(used):,}" if min(used) == max(used) else f"{min(used):,}–{max(used):,}"
        table.add_row(operation, str(len(used)), each, f"{sum(used):,}")
    return table


def run_lst_walkthrough(console: Console) -> None:
    """The in-process staker walkthrough (`--lst-only`)."""
    console.rule("Nektar demo: Diva liquid staking on an in-process EVM")
    try:
        with console.status("deploying contracts…") as status:

            def show(step: Step) -> None:
                console.print(_step_line(step))
                status.update(f"after: {step.title}…")

            result = run_walkthrough(on_step=show)
    except Exception as exc:  # the command's boundary: a plain message, never a traceback
        console.print(f"[bold red]demo failed:[/bold red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(staker_table(result))
    console.print(protocol_table(result))
    console.print(gas_table(result))
    console.print("[bold green]demo complete[/bold green]")


@app.command()
def demo(
    lst_only: Annotated[
        bool, typer.Option("--lst-only", help="only the in-process staker walkthrough")
    ] = False,
    run_dir: Annotated[
        Path | None, typer.Option(help="logs and node data directories (default: a temp dir)")
    ] = None,
) -> None:
    """The Diva base layer live: anvil + contracts, the devnet beacon chain and four Stinger
    nodes as processes; stake, DKG, activation, duties, rewards, a node crash and restart,
    an exit and a withdrawal. With --lst-only: the staker walkthrough on an in-process EVM."""
    console = Console()
    if lst_only:
        run_lst_walkthrough(console)
        return
    from nektar.cli.devnet import run_network_demo

    raise typer.Exit(run_network_demo(console, run_dir))

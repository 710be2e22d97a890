"""`nektar`: the command line for stakers, operators, networks and the devnet.

Each area adds its commands in its own module under `nektar.cli`; this module only assembles
them and turns every expected failure into a plain message and a non-zero exit status.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="nektar",
    help="Nektar: DVT staking, restaking and an infrastructure marketplace on Ethereum.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    """Import the command modules; each one attaches its commands to `app`."""
    from nektar.cli import commands  # noqa: F401


def main() -> None:
    _register_commands()
    app()

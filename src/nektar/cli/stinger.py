"""`stinger`: the operator node's command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="stinger",
    help="Stinger: the Nektar operator node (distributed validators, network tasks).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Stinger operator node."""


def main() -> None:
    app()

"""`nektar conformance SUITE DIR`: run reference test vectors against our implementation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nektar.cli.main import app
from nektar.crypto.conformance import SUITES
from nektar.crypto.conformance.runner import ConformanceError, run_suite

# A one-command sub-app (rather than `@app.command`) keeps `nektar` a command group even while
# this is its only command, so the interface is always `nektar conformance SUITE DIR`.
conformance_app = typer.Typer(add_completion=False)
app.add_typer(conformance_app, name="conformance")


@conformance_app.callback(invoke_without_command=True)
def conformance(
    suite: Annotated[str, typer.Argument(help=f"one of: {', '.join(SUITES)}")],
    directory: Annotated[
        Path, typer.Argument(help="folder of cases laid out like ../shared/vectors/SUITE")
    ],
) -> None:
    """Run every case of SUITE found in DIR; print each failing case, then the totals.

    Exit status 0 only when no case failed.
    """
    passed = failed = 0
    try:
        for result in run_suite(suite, directory):
            if result.ok:
                passed += 1
            else:
                failed += 1
                typer.echo(f"FAIL {result.name}: {result.detail}")
    except ConformanceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(1 if failed else 0)

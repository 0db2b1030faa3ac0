"""The ``creatorscore`` command line: a thin Typer layer over the package's plain functions.

Heavy imports (pandas, LightGBM, MLflow) happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="creatorscore",
    help="Vet social-media creators: bought-follower risk and brand fit, with reasons.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DataOpt = Annotated[Path, typer.Option("--data", help="Dataset folder of contract tables.")]


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the dataset tables.")],
    creators: Annotated[int, typer.Option("--creators", min=1, help="Number of creators.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 0,
    labels_out: Annotated[
        Path | None,
        typer.Option("--labels-out", help="Folder for the label tables (default: OUT/../labels)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl.")] = "parquet",
) -> None:
    """Write a synthetic creator world (contract tables) and its labels."""
    from training.simulate import simulate as run_simulation
    from training.simulate import write_world

    if fmt not in ("parquet", "csv", "jsonl"):
        _fail(f"--format must be parquet, csv or jsonl, not {fmt!r}")
    labels_dir = labels_out if labels_out is not None else out.parent / f"{out.name}-labels"
    with console.status(f"simulating {creators:,} creators (seed {seed})"):
        world = run_simulation(creators, seed=seed)
        write_world(world, out, labels_dir, fmt=fmt)
    console.print(
        f"wrote {creators:,} creators to [bold]{out}[/] and labels to [bold]{labels_dir}[/]"
    )


@app.command()
def validate(data: DataOpt) -> None:
    """Check a dataset folder against the data contract and list every bad row."""
    from features.dataset import ContractError, load

    try:
        loaded = load(data)
    except ContractError as exc:
        _fail(str(exc))
    n_in = len(loaded.creator_ids)
    n_bad = len(loaded.unscorable)
    console.print(f"{n_in:,} creators read, {n_in - n_bad:,} scorable, {n_bad:,} unscorable")
    if len(loaded.errors):
        table = Table("table", "row", "column", "creator_id", "problem", title="bad rows")
        for rec in loaded.errors.head(50).itertuples(index=False):
            table.add_row(
                rec.table, str(rec.row), str(rec.column), str(rec.creator_id), rec.problem
            )
        console.print(table)
        if len(loaded.errors) > 50:
            console.print(f"... and {len(loaded.errors) - 50:,} more")
        raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Working folder for the demo.")] = Path(
        "creatorscore-demo"
    ),
    creators: Annotated[int, typer.Option("--creators", min=50, help="World size.")] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Simulate a creator world, train and register the models, score every creator."""
    from serving.demo import run_demo

    run_demo(out, creators=creators, seed=seed, console=console)


def _register_commands() -> None:
    """Commands that live next to the code they drive; each module defines a Typer-annotated
    function and this file only gives it its name."""
    from serving.commands import (
        explain_command,
        fit_command,
        report_command,
        score_command,
        serve_command,
    )
    from training.commands import train_command
    from training.evaluate_accounts import evaluate_accounts_command

    app.command("train")(train_command)
    app.command("score")(score_command)
    app.command("fit")(fit_command)
    app.command("serve")(serve_command)
    app.command("report")(report_command)
    app.command("explain")(explain_command)
    app.command("evaluate-accounts")(evaluate_accounts_command)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

"""``creatorscore train``: fit, track in MLflow, register and decide the champion.

Only Typer and the standard library are imported here; pandas, LightGBM and MLflow load inside
the command so ``creatorscore --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["TrackingUriOpt", "train_command"]

TrackingUriOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow store; default $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here.",
    ),
]


def train_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder of contract tables.")],
    labels: Annotated[
        Path, typer.Option("--labels", help="Folder of label tables (fraud_labels, ...).")
    ],
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of training settings.")
    ] = None,
    tune: Annotated[
        int, typer.Option("--tune", min=0, help="Optuna trials for the fraud model (0: none).")
    ] = 0,
    promote: Annotated[
        bool, typer.Option("--promote", help="Make the new version champion whatever it scores.")
    ] = False,
    tracking_uri: TrackingUriOpt = None,
    experiment: Annotated[str, typer.Option("--experiment", help="MLflow experiment.")] = (
        "creatorscore"
    ),
    run_name: Annotated[str | None, typer.Option("--run-name", help="MLflow run name.")] = None,
) -> None:
    """Train the text, account, fraud and fit models, log them to MLflow, register the bundle."""
    from features.dataset import ContractError, load, load_labels
    from training.config import TrainConfig
    from training.tracking import train_and_log

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2)

    try:
        settings = TrainConfig.from_toml(config) if config is not None else TrainConfig()
    except (OSError, ValueError) as exc:
        fail(f"cannot read --config: {exc}")
    try:
        tables = load(data)
        label_tables, label_errors = load_labels(labels)
    except ContractError as exc:
        fail(str(exc))
    if len(tables.unscorable):
        typer.echo(f"{len(tables.unscorable):,} creators with bad rows are left out of training")
    if len(label_errors):
        typer.echo(f"{len(label_errors):,} bad label rows dropped")
    try:
        run = train_and_log(
            tables,
            label_tables,
            settings,
            data_dirs=[data, labels],
            tune_trials=tune,
            promote=promote,
            tracking_uri=tracking_uri,
            experiment=experiment,
            run_name=run_name,
            echo=typer.echo,
        )
    except ValueError as exc:  # labels that cannot train a model, e.g. no buyers at all
        fail(str(exc))
    typer.echo(f"model: {run.model_uri} (run {run.run_id})")

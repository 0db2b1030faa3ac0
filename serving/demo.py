"""The demo: the whole path on the embedded default data, printed as a short story."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from features.schema import TIERS, tier_of

__all__ = ["run_demo", "world_summary"]


def world_summary(creators: pd.DataFrame, features: pd.DataFrame, fraud: pd.DataFrame) -> dict:
    """Creators per tier and platform, fraud share and median engagement rate per tier."""
    tiers = pd.Series(tier_of(creators["followers"].to_numpy()), index=creators["creator_id"])
    tiers = pd.Categorical(tiers, categories=TIERS, ordered=True)
    frame = pd.DataFrame(
        {
            "tier": tiers,
            "platform": creators["platform"].to_numpy(),
            "er": features["eng_er_median"].reindex(creators["creator_id"]).to_numpy(),
        }
    )
    bought = fraud.set_index("creator_id")["bought_followers"].astype(bool)
    return {
        "per_tier_platform": pd.crosstab(frame["tier"], frame["platform"], dropna=False),
        "median_er": frame.groupby("tier", observed=False)["er"].median(),
        "fraud_share": float(bought.reindex(creators["creator_id"]).mean()),
    }


def run_demo(
    out: Path, *, creators: int, seed: int, console: Console, tracking_uri: str | None = None
) -> None:
    """Simulate, load, train and register, then score the world: the whole path, end to end."""
    import json
    import logging
    import os
    import time

    # The demo tells its own story; MLflow's download bars and INFO lines would drown it.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)

    import features
    from features.dataset import load, load_labels
    from serving.batch import score_folder
    from serving.predict import Scorer
    from training.config import TrainConfig
    from training.simulate import simulate, write_world
    from training.tracking import train_and_log

    t0 = time.perf_counter()
    data_dir, labels_dir = out / "data", out / "labels"
    with console.status(f"simulating {creators:,} creators"):
        write_world(simulate(creators, seed=seed), data_dir, labels_dir)
    console.print(f"1. simulated {creators:,} creators into [bold]{data_dir}[/]")

    data = load(data_dir)
    labels, _ = load_labels(labels_dir)
    console.print(
        f"2. loaded them back through the contract loader: {len(data):,} scorable, "
        f"{len(data.unscorable):,} unscorable, {len(data.errors):,} bad rows"
    )
    summary = world_summary(data.creators, features.build(data), labels["fraud_labels"])
    grid = summary["per_tier_platform"]
    table = Table("tier", *map(str, grid.columns), "median engagement rate", title="the world")
    for tier, row in grid.iterrows():
        er = summary["median_er"].get(tier)
        table.add_row(str(tier), *(f"{v:,}" for v in row), "" if pd.isna(er) else f"{er:.2%}")
    console.print(table)
    share = summary["fraud_share"]
    console.print(f"   share of creators who bought followers or engagement: {share:.1%}")

    console.print("3. training the text, account, fraud and fit models (tracked in MLflow)")
    run = train_and_log(
        data,
        labels,
        TrainConfig(),
        data_dirs=[data_dir, labels_dir],
        tracking_uri=tracking_uri,
        run_name="demo",
        echo=lambda line: console.print(f"   {line}", markup=False, highlight=False),
    )

    scores_path = out / "scores.csv"
    console.print(f"4. scoring every creator with [bold]{run.model_uri}[/]")
    scorer = Scorer.load(run.model_uri)
    batch = score_folder(data_dir, scores_path, scorer)
    console.print(
        "   risk bands: " + ", ".join(f"{b} {n:,}" for b, n in sorted(batch.bands.items()))
    )
    scores = pd.read_csv(scores_path, keep_default_na=False)
    top = scores[scores["status"] == "ok"].nlargest(3, "fraud_risk")
    for rec in top.itertuples(index=False):
        console.print(f"   {rec.creator_id}: fraud_risk {rec.fraud_risk:.2f} ({rec.risk_band})")
        for reason in json.loads(rec.reasons)[:3]:
            console.print(f"      - {reason}", markup=False, highlight=False)

    console.print(f"\ndone in {time.perf_counter() - t0:.0f} s. Where to look:")
    console.print(f"  scores:  {scores_path}")
    console.print(f"  MLflow:  mlflow ui --backend-store-uri {run.tracking_uri}")
    console.print(
        "  again:   creatorscore score --data "
        f"{data_dir} --out scores.parquet   (uses models:/creatorscore@champion)"
    )

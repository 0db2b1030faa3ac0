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


def run_demo(out: Path, *, creators: int, seed: int, console: Console) -> None:
    """Simulate, write, load back and summarise a world in ``out``."""
    import features
    from features.dataset import load, load_labels
    from training.simulate import simulate, write_world

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
    feats = features.build(data)
    console.print(f"3. built {feats.shape[1]} features per creator")

    summary = world_summary(data.creators, feats, labels["fraud_labels"])
    grid = summary["per_tier_platform"]
    table = Table("tier", *map(str, grid.columns), "median engagement rate", title="the world")
    for tier, row in grid.iterrows():
        er = summary["median_er"].get(tier)
        table.add_row(str(tier), *(f"{v:,}" for v in row), "" if pd.isna(er) else f"{er:.2%}")
    console.print(table)
    console.print(
        f"share of creators who bought followers or engagement: {summary['fraud_share']:.1%}"
    )

"""Model quality on a held-out simulated world: printed for the README, never asserted.

Trains the bundle on one simulated world (``--train`` creators, seed 0) with the default
``TrainConfig`` and scores it end to end, as a scorer would, on a *different* world of
``--test`` creators (seed 1): every creator and every brand of the test world is unseen.

Targets from the issue: fraud ROC-AUC >= 0.95, recall >= 0.7 at 5% false-positive rate for
drip-fed purchases, expected calibration error <= 0.03, fit NDCG@10 >= 0.85.

Run: ``python benchmarks/bench_quality.py [--train 10000] [--test 20000]``
"""

from __future__ import annotations

import argparse
import time

TARGETS = (
    ("fraud_roc_auc", "fraud ROC-AUC", ">=", 0.95),
    ("fraud_drip_recall_at_5pct_fpr", "drip-feed recall at 5% FPR", ">=", 0.70),
    ("fraud_ece", "fraud expected calibration error", "<=", 0.03),
    ("fit_ndcg_at_10", "fit NDCG@10", ">=", 0.85),
)
OTHER = (
    "fraud_pr_auc",
    "fraud_brier",
    "fraud_recall_at_1pct_fpr",
    "fraud_recall_at_5pct_fpr",
    *(
        f"fraud_{k}_recall_at_5pct_fpr"
        for k in ("burst", "drip", "likes", "pod", "f4f")
        if k != "drip"
    ),
    "fit_ndcg_at_5",
    "fit_good_roc_auc",
    "account_roc_auc",
    "account_ece",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10_000, help="creators in the training world")
    parser.add_argument("--test", type=int, default=20_000, help="creators in the held-out world")
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads")
    args = parser.parse_args()

    from features.dataset import load, load_labels
    from training.config import TrainConfig
    from training.pipeline import evaluate_bundle, fit_bundle
    from training.simulate import simulate

    t = time.perf_counter()
    train_world = simulate(args.train, seed=0)
    test_world = simulate(args.test, seed=1)
    print(f"simulated {args.train:,} + {args.test:,} creators in {time.perf_counter() - t:.1f} s")
    train = load(train_world.tables)
    train_labels, _ = load_labels(train_world.labels)
    test = load(test_world.tables)
    test_labels, _ = load_labels(test_world.labels)

    t = time.perf_counter()
    result = fit_bundle(train, train_labels, TrainConfig(num_threads=args.threads))
    took = time.perf_counter() - t
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    print(f"trained on {args.train:,} creators in {took:.1f} s ({stages})")

    t = time.perf_counter()
    metrics, _, _ = evaluate_bundle(
        result.bundle,
        test,
        test_labels,
        test.creators["creator_id"].tolist(),
        test.brands["brand_id"].astype(str).tolist(),
    )
    print(f"scored the held-out world in {time.perf_counter() - t:.1f} s")
    n_pairs = int(metrics.get("valid_n_pairs", 0))
    print(
        f"\nheld-out world: {int(metrics['valid_n_creators']):,} creators "
        f"(buyers {metrics['valid_positive_rate']:.1%}), {n_pairs:,} labelled brand pairs"
    )
    print(f"{'metric':<36} {'value':>8}  target")
    for key, label, op, bound in TARGETS:
        value = metrics.get(key, float("nan"))
        met = value >= bound if op == ">=" else value <= bound
        print(f"{label:<36} {value:>8.4f}  {op} {bound:<5} {'met' if met else 'NOT met'}")
    for key in OTHER:
        if key in metrics:
            print(f"{key:<36} {metrics[key]:>8.4f}")


if __name__ == "__main__":
    main()

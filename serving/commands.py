"""The serving commands of the ``creatorscore`` CLI: score, fit, serve, report and explain.

``serving/cli.py`` registers these functions under their command names. Only typer, pathlib and
typing are imported at module level so ``--help`` stays instant; the work happens in
``serving.predict``, ``serving.batch``, ``serving.api`` and ``serving.report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Bundle folder or MLflow model URI (default: models:/creatorscore@champion in the "
        "configured MLflow store).",
    ),
]
DataOpt = Annotated[Path, typer.Option("--data", help="Dataset folder of contract tables.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output file: .csv, .parquet or .jsonl.")]


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def _load(model: str | None):
    from serving.predict import DEFAULT_MODEL_URI, Scorer

    try:
        return Scorer.load(model or DEFAULT_MODEL_URI)
    except Exception as exc:  # any loading failure ends the command with its message
        _fail(f"cannot load model {model or DEFAULT_MODEL_URI}: {exc}")


def _progress(label: str):
    """A rich progress bar with creators/s and time left, and its update callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} creators/s"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        transient=False,
    )
    task = bar.add_task(label, total=None, rate="-")

    def update(done: int, total: int) -> None:
        t = bar.tasks[0]
        speed = t.speed
        bar.update(task, completed=done, total=total, rate=f"{speed:,.0f}" if speed else "-")

    return bar, update


def _print_summary(summary, what: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    rate = summary.n_rows / summary.seconds if summary.seconds else float("nan")
    console.print(
        f"{what} {summary.n_rows:,} rows to [bold]{summary.out}[/] in {summary.seconds:,.1f} s "
        f"({rate:,.0f}/s), {summary.n_errors:,} errors"
        + (f"; resumed {summary.resumed_chunks} finished chunks" if summary.resumed_chunks else ""),
        highlight=False,
    )
    if summary.worker_seconds:
        console.print(
            f"LightGBM prediction (with reasons): {summary.predict_seconds:,.1f} s of "
            f"{summary.worker_seconds:,.1f} s chunk time "
            f"({summary.predict_seconds / summary.worker_seconds:.0%})",
            highlight=False,
        )
    if summary.bands:
        table = Table("risk band", "creators")
        for band in ("low", "medium", "high"):
            table.add_row(band, f"{summary.bands.get(band, 0):,}")
        console.print(table)
    for message in summary.first_errors:
        console.print(f"  [red]error[/] {message}", highlight=False, markup=False)


def score_command(
    data: DataOpt,
    out: OutOpt,
    model: ModelOpt = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size",
            min=0,
            help="Creators per chunk (0: all at once). Child tables must list each creator's "
            "rows together, in the order of the creators table.",
        ),
    ] = 5_000,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            min=1,
            help="Parallel worker processes. With every table in Parquet each worker reads its "
            "own chunks; CSV and JSON Lines are read by the main process and handed over.",
        ),
    ] = 1,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from its finished chunks.")
    ] = False,
    reasons: Annotated[
        str,
        typer.Option("--reasons", help="Reasons for: flagged (medium/high risk), all, none."),
    ] = "flagged",
    extra: Annotated[
        bool,
        typer.Option(
            "--extra",
            help="Add the optional columns: fraud_confidence, the audience_fake_share interval, "
            "low_quality_audience and its reasons, evidence counts.",
        ),
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="pandas (this machine, chunked) or spark (needs the [spark] extra; --out is "
            "then a folder of Parquet parts in input order).",
        ),
    ] = "pandas",
    master: Annotated[
        str,
        typer.Option("--master", help="Spark master for --engine spark (local[*], yarn, ...)."),
    ] = "local[*]",
) -> None:
    """Score every creator of a dataset: fraud risk, band, engagement, tier and reasons."""
    from features.dataset import ContractError
    from serving.batch import score_folder

    if reasons not in ("flagged", "all", "none"):
        _fail(f"--reasons must be flagged, all or none, not {reasons!r}")
    if engine not in ("pandas", "spark"):
        _fail(f"--engine must be pandas or spark, not {engine!r}")
    if engine == "spark":
        if extra:
            _fail("--extra is not available with --engine spark yet")
        _score_spark(data, out, model, master, reasons)
        return
    if out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        _fail(f"{out}: the output must end in .csv, .parquet or .jsonl")
    scorer = _load(model)
    bar, update = _progress("scoring")
    try:
        with bar:
            summary = score_folder(
                data,
                out,
                scorer,
                chunk_size=chunk_size,
                jobs=jobs,
                resume=resume,
                reasons=reasons,
                extra=extra,
                progress=update,
            )
    except (ContractError, ValueError) as exc:
        _fail(str(exc))
    _print_summary(summary, "scored")


def _score_spark(data: Path, out: Path, model: str | None, master: str, reasons: str) -> None:
    """``score --engine spark``: read the tables with Spark, write Parquet parts to ``out``."""
    import time

    from rich.console import Console

    from features.dataset import ContractError

    if out.suffix.lower() in (".csv", ".jsonl") or (out.exists() and not out.is_dir()):
        _fail(f"{out}: with --engine spark the output is a folder of Parquet files")
    try:
        from serving.spark import score_folder_spark, spark_session
    except ImportError as exc:
        _fail(f"--engine spark needs pyspark: pip install 'creatorscore[spark]' ({exc})")
    scorer = _load(model)
    t0 = time.perf_counter()
    try:
        spark = spark_session(master)
        n = score_folder_spark(spark, data, out, scorer, reasons=reasons)
    except (ContractError, ValueError) as exc:
        _fail(str(exc))
    seconds = time.perf_counter() - t0
    Console(stderr=True).print(
        f"scored {n:,} rows to [bold]{out}[/] (Parquet parts in input order) with Spark "
        f"{master} in {seconds:,.1f} s",
        highlight=False,
    )


def fit_command(
    data: DataOpt,
    brands: Annotated[Path, typer.Option("--brands", help="The brands table (csv/parquet/jsonl).")],
    out: OutOpt,
    model: ModelOpt = None,
    top: Annotated[
        int | None,
        typer.Option("--top", min=1, help="Keep the best K creators per brand (default: all)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=0, help="Creators per chunk (0: all at once).")
    ] = 5_000,
    no_reasons: Annotated[
        bool, typer.Option("--no-reasons", help="Skip the reasons (faster for every pair).")
    ] = False,
) -> None:
    """Rank creators for each brand brief: fit score, rank, fraud risk and reasons."""
    from features.dataset import ContractError
    from serving.batch import fit_folder

    if out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        _fail(f"{out}: the output must end in .csv, .parquet or .jsonl")
    scorer = _load(model)
    bar, update = _progress("fitting")
    try:
        with bar:
            summary = fit_folder(
                data,
                brands,
                out,
                scorer,
                top=top,
                chunk_size=chunk_size,
                reasons=not no_reasons,
                progress=update,
            )
    except (ContractError, ValueError) as exc:
        _fail(str(exc))
    _print_summary(summary, "wrote")


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    model: ModelOpt = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Scoring processes, each with its own copy of the model (about one per core); "
            "one server process gathers every connection's requests for them.",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (POST /v1/score, POST /v1/fit, GET /v1/model, GET /healthz).

    Settings from the environment: CREATORSCORE_API_KEY (require it when set),
    CREATORSCORE_MAX_CREATORS (per request, default 1000), CREATORSCORE_MAX_BODY_BYTES
    (default 20 MB), CREATORSCORE_BATCH_MAX_CREATORS (creators of concurrent requests scored in
    one call, default 64), CREATORSCORE_BATCH_WAIT_MS (how long a request waits for others to
    join its call, default 2), CREATORSCORE_QUEUE_MAX (requests waiting before 503, default 256).
    """
    from dataclasses import replace

    import uvicorn

    from serving.api import Settings, create_app

    scorer = _load(model)
    settings = replace(Settings.from_env(), score_processes=workers)
    uvicorn.run(create_app(scorer, settings), host=host, port=port, log_level="warning")


def report_command(
    data: DataOpt,
    creator: Annotated[str, typer.Option("--creator", help="creator_id to report on.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    brand: Annotated[
        str | None, typer.Option("--brand", help="brand_id of a brief in the dataset's brands.")
    ] = None,
    brands: Annotated[
        Path | None, typer.Option("--brands", help="Brands table (default: the dataset's).")
    ] = None,
    model: ModelOpt = None,
) -> None:
    """Write a self-contained HTML vetting report for one creator (and one brand)."""
    from features.dataset import ContractError
    from serving.report import write_report

    scorer = _load(model)
    try:
        write_report(data, creator, out, scorer, brand=brand, brands=brands)
    except (ContractError, KeyError, ValueError) as exc:
        _fail(str(exc).strip("'\""))
    typer.echo(f"wrote {out}")


def explain_command(
    data: DataOpt,
    creator: Annotated[str, typer.Option("--creator", help="creator_id to explain.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="File to write: .json (score row and evidence), .csv or .jsonl (evidence rows). "
            "Default: the JSON on standard output.",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", min=1, max=100, help="Fake-looking followers and commenters listed."),
    ] = 10,
    model: ModelOpt = None,
) -> None:
    """Show the evidence behind one creator's scores: dated follower jumps and drops, posts whose
    likes or comments look bought, the most fake-looking followers and repeated commenters."""
    import json

    from rich.console import Console

    from features.dataset import ContractError
    from serving.report import explanation, read_creator, write_explanation

    if out is not None and out.suffix.lower() not in (".json", ".csv", ".jsonl"):
        _fail(f"{out}: the output must end in .json, .csv or .jsonl")
    scorer = _load(model)
    try:
        scores, evidence = scorer.explain(read_creator(data, creator), [creator], top=top)
    except (ContractError, KeyError, ValueError) as exc:
        _fail(str(exc).strip("'\""))
    row = scores.iloc[0]
    console = Console(stderr=True)
    if row["status"] != "ok":
        _fail(f"creator {creator!r} cannot be scored: {row['error']}")
    console.print(
        f"{creator}: fraud risk {row['fraud_risk']:.1%} ({row['risk_band']}, "
        f"{row['fraud_confidence']} confidence); low-quality audience "
        f"{row['low_quality_audience'] or 'unknown'}; {len(evidence)} evidence rows",
        highlight=False,
        markup=False,
    )
    if out is None:
        typer.echo(json.dumps(explanation(scores, evidence), ensure_ascii=False, indent=2))
        return
    write_explanation(scores, evidence, out)
    console.print(f"wrote {out}", highlight=False, markup=False)

"""Score creators on Apache Spark with the same code, and the same numbers, as the pandas path.

>>> spark = spark_session("local[*]")                               # doctest: +SKIP
>>> tables = read_tables(spark, "s3://bucket/creators-2026-05/")    # doctest: +SKIP
>>> scores = score_spark(spark, tables, "models:/creatorscore@champion")   # doctest: +SKIP
>>> scores.write.parquet("s3://bucket/scores-2026-05/")             # doctest: +SKIP

How the work is split
---------------------
1. **Row numbers.** :func:`read_tables` reads every contract table with Spark and gives each row
   its 1-based record number within the table as given (column ``_row``), so error messages name
   the same rows as the pandas path. File order is recovered from each row's file and split
   (``_metadata``), because Spark hands out splits in its own order.
2. **Features** (:func:`feature_frame`): creators and their child-table rows are grouped by a hash
   of ``creator_id`` into groups of about ``rows_per_group`` creators,
   ``groupBy(g).cogroup(groupBy(g)).applyInPandas(...)``, and each group runs
   ``features.dataset.load`` and ``features.build``, the partition-safe builders of the pandas
   path. Grouping whole creators (not one creator per group) keeps the number of Python calls at
   creators / ``rows_per_group``: one pandas/pandera pass per creator would cost milliseconds
   each, hours for tens of millions. Every row of a ``creator_id`` lands in the same group, so a
   duplicated ``creators`` row, or a duplicated post key, is seen there as in the whole table.
3. **Scores** (:func:`score_spark`): ``mapInPandas`` over the feature rows calls
   ``Scorer.score_features``, the same function the pandas path ends in; **fit**
   (:func:`fit_spark`) scores brand x creator pairs the same way and ranks them per brand with a
   Spark window, with the tie rule of ``models.rank_within``.

The bundle is shipped to the executors once (``SparkContext.addFile``) and loaded, with its
checksums verified, once per Python worker process (workers are reused between tasks), never per
batch.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.dataset import EXTENSIONS, ContractError, CreatorData, load
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "ROW",
    "spark_session",
    "read_tables",
    "number_rows",
    "feature_frame",
    "score_spark",
    "fit_spark",
    "score_folder_spark",
]

#: Column holding each row's 1-based record number within its table as given.
ROW = "_row"
SCORE_TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample")
CHILD_TABLES = SCORE_TABLES[1:]

_GROUP = "_g"
_TABLE = "_t"
_SEP = "__"
# Per-creator columns carried from the feature step to scoring, besides the features.
_OK, _ERROR, _FOLLOWERS, _COUNTRY, _AS_OF = "_ok", "_error", "_followers", "_country", "_as_of"
_FLOATS = ("fraud_risk", "audience_fake_share", "engagement_rate", "expected_engagement_rate")


# --------------------------------------------------------------------------------------------
# Session and reading


def spark_session(master: str = "local[*]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A SparkSession set up for creatorscore (or the running one, on a cluster).

    Python workers run this interpreter (``PYSPARK_PYTHON``), so they see the same packages as
    the driver; the SQL session time zone is UTC because the contract's naive timestamps are UTC.

    Parameters
    ----------
    master : ``local[*]``, ``local[2]``, ``yarn``, ``spark://host:7077`` ...; ignored when a
        session is already running (Databricks, a notebook on EMR or Dataproc).
    conf : extra Spark settings, e.g. ``{"spark.sql.shuffle.partitions": "8"}``.
    """
    if master.startswith("local"):
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    else:  # a cluster's own Python setting wins; this interpreter is only the fallback
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.python.worker.reuse": "true",
        **(dict(conf) if conf else {}),
    }
    builder = SparkSession.builder.master(master).appName("creatorscore")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _list_folder(spark: SparkSession, folder: str) -> list[tuple[str, str, bool]]:
    """(name, full path, is folder) of every entry of a local, HDFS, S3, GCS or DBFS folder."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(folder)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
        raise ContractError(f"dataset folder {folder} does not exist")
    return [
        (s.getPath().getName(), s.getPath().toString(), bool(s.isDirectory()))
        for s in fs.listStatus(path)
    ]


def _read_file(spark: SparkSession, table: str, path: str, ext: str) -> DataFrame:
    """Raw values of one table file, as ``features.dataset.read_table`` reads them."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if ext == "parquet":
        # pandas writes nanosecond timestamps, which Spark reads only as their integer value;
        # they are turned back into timestamps (at Spark's microsecond resolution) below.
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        frame = spark.read.parquet(path)
        times = {c.name for c in TABLES.get(table, ()) if c.type in ("date", "timestamp")}
        for field in frame.schema.fields:
            if field.name in times and isinstance(field.dataType, T.LongType):
                micros = F.floor(F.col(f"`{field.name}`") / 1000)
                frame = frame.withColumn(field.name, F.timestamp_micros(micros))
        return frame
    if ext.startswith("csv"):
        # Every cell as text, an empty cell missing, quotes doubled inside quoted cells and line
        # breaks allowed in them: how pandas reads (and writes) CSV. Multi-line CSV cannot be
        # split within a file, so large inputs are better given as Parquet.
        frame = spark.read.csv(
            path, header=True, inferSchema=False, multiLine=True, escape='"', encoding="UTF-8"
        )
        first = frame.columns[0] if frame.columns else None
        if first is not None and first.startswith("\ufeff"):  # a spreadsheet's byte-order mark
            frame = frame.withColumnRenamed(first, first.lstrip("\ufeff"))
        return frame
    # JSON Lines keep their JSON types where a column is of one type (Spark infers a common type
    # per column, so a column mixing numbers and text is read as text).
    return spark.read.json(path, mode="FAILFAST")


def number_rows(frame: DataFrame, keys: list[str] | None = None) -> DataFrame:
    """Add ``_row``, the 1-based position of each row in the order the frame is read.

    Positions come from ``monotonically_increasing_id`` (ordered within a Spark partition) and a
    small count per partition, or per ``keys`` group (each a contiguous run of rows, e.g. one
    file split), whose cumulative sums on the driver give each group's first row. The frame is
    scanned twice, so it must read back the same way: a file read does, a shuffle's output may
    not (give such a frame its own ``_row`` column instead).
    """
    from pyspark.sql import functions as F

    keys = keys or ["_part"]
    marked = frame.withColumn("_mono", F.monotonically_increasing_id())
    if keys == ["_part"]:
        marked = marked.withColumn("_part", F.spark_partition_id())
    stats = (
        marked.groupBy(*keys)
        .agg(F.min("_mono").alias("_first"), F.count(F.lit(1)).alias("_n"))
        .toPandas()
    )
    if keys == ["_part"]:
        stats = stats.sort_values("_part")
    else:
        stats = stats.sort_values(keys)
    stats["_start"] = np.r_[0, np.cumsum(stats["_n"].to_numpy())[:-1]].astype("int64")
    spark = frame.sparkSession
    starts = spark.createDataFrame(stats[[*keys, "_first", "_start"]])
    return (
        marked.join(F.broadcast(starts), on=keys, how="inner")
        .withColumn(ROW, (F.col("_mono") - F.col("_first") + F.col("_start") + 1).cast("long"))
        .drop("_mono", "_first", "_start", *keys)
    )


def read_tables(
    spark: SparkSession, folder: str | Path, tables: tuple[str, ...] = SCORE_TABLES
) -> dict[str, DataFrame]:
    """Read the contract tables of a dataset folder with Spark, each with its ``_row`` column.

    Parameters
    ----------
    spark : the session.
    folder : a dataset folder (local path or any URI Spark reads: ``s3://``, ``gs://``,
        ``abfss://``, ``dbfs:/``) holding ``<table>.<ext>`` files; a Parquet table may be a
        folder of part files.
    tables : which tables to read when present (default: those scoring needs).

    Raises
    ------
    ContractError
        Folder or ``creators`` missing, or a table given in more than one file.
    """
    from pyspark.sql import functions as F

    text = str(Path(folder).resolve()) if "://" not in str(folder) else str(folder)
    found: dict[str, list[tuple[str, str]]] = {}
    for name, path, is_dir in _list_folder(spark, text):
        table, _, ext = name.partition(".")
        if table not in tables or (is_dir and ext != "parquet") or ext not in EXTENSIONS:
            continue
        found.setdefault(table, []).append((path, ext))
    doubled = {t: p for t, p in found.items() if len(p) > 1}
    if doubled:
        table, paths = next(iter(doubled.items()))
        raise ContractError(f"{len(paths)} files for table {table} in {text}; keep exactly one")
    if "creators" not in found:
        raise ContractError(f"required table creators missing in {text}")
    out = {}
    for table in tables:
        if table not in found:
            continue
        path, ext = found[table][0]
        raw = _read_file(spark, table, path, ext)
        # The split a row comes from: (file, first byte). Rows of one split are contiguous and
        # in file order; sorting the splits by (file, first byte) gives the table's order.
        raw = raw.withColumn("_file", F.col("_metadata.file_path")).withColumn(
            "_block", F.col("_metadata.file_block_start")
        )
        out[table] = number_rows(raw, ["_file", "_block"])
    return out


# --------------------------------------------------------------------------------------------
# The bundle on the executors

_SCORERS: dict[tuple[str, str], object] = {}
_SHIPPED: set[tuple[str, str]] = set()


def _ship(spark: SparkSession, scorer) -> tuple[str, str]:
    """Send the scorer's bundle folder to every executor once; returns (file name, version)."""
    if scorer.folder is None:
        raise ValueError("the scorer has no bundle folder; load it with Scorer.load")
    # A name unique to the bundle's content: Spark refuses one name for two different folders.
    name = f"creatorscore-bundle-{scorer.bundle.version.replace(':', '-')[:40]}"
    key = (spark.sparkContext.applicationId, name)
    if key not in _SHIPPED:
        staging = Path(tempfile.mkdtemp(prefix="creatorscore-ship-")) / name
        shutil.copytree(scorer.folder, staging)
        spark.sparkContext.addFile(str(staging), recursive=True)
        _SHIPPED.add(key)
    return name, scorer.model_version


def _executor_scorer(name: str, version: str):
    """The scorer of a shipped bundle, loaded and checksum-verified once per Python worker."""
    key = (name, version)
    if key not in _SCORERS:
        from pyspark import SparkFiles

        from models import Bundle
        from serving.predict import Scorer

        folder = Path(SparkFiles.get(name))
        _SCORERS[key] = Scorer(Bundle.load(folder), version, folder)
    return _SCORERS[key]


def _load_scorer(model_uri):
    from serving.predict import Scorer

    return model_uri if hasattr(model_uri, "score_features") else Scorer.load(model_uri)


# --------------------------------------------------------------------------------------------
# Features


def _id_key(frame: DataFrame, column: str = "creator_id"):
    """``creator_id`` as the loader reads it (text; ``12.0`` -> ``"12"``; ``""`` -> missing)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    col = F.col(column)
    kind = frame.schema[column].dataType
    if isinstance(kind, T.StringType):
        return F.when(col == "", F.lit(None)).otherwise(col)
    if isinstance(kind, T.FloatType | T.DoubleType | T.DecimalType):
        whole = col == F.floor(col)
        return F.when(whole, col.cast("long").cast("string")).otherwise(col.cast("string"))
    return col.cast("string")


_ALSO = re.compile(r"\(also in rows? ([0-9, ]+?)( and [0-9,]+ more)?\)$")


def _renumber(data: CreatorData, rows: dict[str, np.ndarray]) -> None:
    """Turn a group's row numbers into whole-table row numbers in ``data``'s errors and messages.

    ``rows[table][i]`` is the table row of the group's row ``i + 1``. Rows are given to the loader
    in table order, so the mapping keeps order and the loader's message order is unchanged.
    """
    from features.dataset import _summaries

    errors = data.errors
    if not len(errors):
        return
    local = errors["row"].to_numpy(dtype="int64")
    tables = errors["table"].to_numpy(dtype=object)
    glob = local.copy()
    problems = errors["problem"].to_numpy(dtype=object).copy()
    for table, where in rows.items():
        mine = tables == table
        if not mine.any():
            continue
        glob[mine] = where[local[mine] - 1]
        # A duplicate key names the other rows holding it inside its message.
        for i in np.flatnonzero(mine):
            found = _ALSO.search(problems[i])
            if found is None or not problems[i].startswith("duplicate"):
                continue
            shown = ", ".join(str(where[int(r) - 1]) for r in found.group(1).split(", "))
            problems[i] = problems[i][: found.start(1)] + shown + problems[i][found.end(1) :]
    data.errors = errors.assign(row=glob, problem=problems)
    blamed = data.errors[data.errors["creator_id"].isin(list(data.unscorable))]
    messages = _summaries(blamed)
    data.unscorable = {cid: messages.get(cid, m) for cid, m in data.unscorable.items()}


def _feature_columns(scorer) -> list[str]:
    """The feature columns ``features.build`` gives with this bundle (from zero creators)."""
    empty = pd.DataFrame({"creator_id": pd.Series([], dtype=object), "followers": []})
    _, X = scorer.features({"creators": empty})
    return list(X.columns)


def _group_features(
    creators: pd.DataFrame,
    children: pd.DataFrame,
    *,
    bundle: tuple[str, str],
    columns: dict[str, list[str]],
    features: list[str],
    as_of,
) -> pd.DataFrame:
    """Load, validate and build the features of one group of whole creators."""
    from features import resolve_as_of

    scorer = _executor_scorer(*bundle)
    creators = creators.sort_values(ROW, kind="stable")
    tables = {"creators": creators[columns["creators"]].reset_index(drop=True)}
    rows = {"creators": creators[ROW].to_numpy(dtype="int64")}
    for table in CHILD_TABLES:
        if table not in columns:
            continue
        part = children[children[_TABLE] == table].sort_values(ROW, kind="stable")
        raw = part[[f"{table}{_SEP}{c}" for c in columns[table]]]
        tables[table] = raw.set_axis(columns[table], axis=1).reset_index(drop=True)
        rows[table] = part[ROW].to_numpy(dtype="int64")
    data = load(tables)
    _renumber(data, rows)
    data, X = scorer.features(data, as_of)
    days = resolve_as_of(data, as_of)
    ids = pd.Index(data.creator_ids, dtype=object)
    ok = ids.isin(X.index) & ~ids.isin(list(data.unscorable))
    pos = X.index.get_indexer(ids.where(ok, None)) if X.index.is_unique else None
    if pos is None:  # ids repeat only when unscorable, so the first occurrence is the row
        first = ~X.index.duplicated()
        pos = pd.Index(X.index[first]).get_indexer(ids.where(ok, None))
    loaded = data.creators.drop_duplicates("creator_id").set_index("creator_id")
    out = pd.DataFrame(
        X.to_numpy("float64")[np.maximum(pos, 0)] if len(X) else np.nan,
        columns=list(X.columns),
        index=range(len(ids)),
    ).reindex(columns=features)
    out.loc[~ok, :] = np.nan
    day = days.reindex(ids.where(ok, None)).to_numpy(dtype="datetime64[ns]")
    meta = pd.DataFrame(
        {
            ROW: rows["creators"],
            "creator_id": ids.to_numpy(dtype=object),
            _OK: ok,
            _ERROR: [data.error_for(c) for c in ids],
            _FOLLOWERS: loaded["followers"].reindex(ids).to_numpy("float64"),
            _COUNTRY: loaded["country"].reindex(ids).to_numpy(dtype=object),
            _AS_OF: np.where(np.isnat(day), None, day.astype("int64")),
        }
    )
    return pd.concat([meta, out], axis=1)


def feature_frame(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    scorer,
    *,
    as_of=None,
    rows_per_group: int = 2_000,
) -> DataFrame:
    """Features of every input creator: one row per ``creators`` row (bad rows included).

    Columns: ``_row``, ``creator_id`` ("" when missing), ``_ok`` (scorable), ``_error`` (the
    loader's message, "" when none), ``_followers``, ``_country``, ``_as_of`` (snapshot day, ns
    since 1970) and the feature columns of ``features.build`` (NaN for unscorable rows).

    Parameters
    ----------
    tables : the contract tables as Spark DataFrames (``read_tables``); a frame without ``_row``
        is numbered in its read order (:func:`number_rows`).
    scorer : a loaded ``serving.predict.Scorer``.
    rows_per_group : creators per pandas call: larger groups amortise the per-call cost, smaller
        ones bound executor memory (a group holds all child rows of its creators).
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if "creators" not in tables:
        raise ContractError("required table creators missing in the tables given")
    tables = {t: f if ROW in f.columns else number_rows(f) for t, f in tables.items()}
    tables = {t: f for t, f in tables.items() if t in SCORE_TABLES}
    columns = {t: [c for c in f.columns if c != ROW] for t, f in tables.items()}
    # Whole-table checks (required columns missing, a column given twice) by the loader itself,
    # on zero rows, so they fail here with its message and not inside an executor.
    load({t: f.limit(0).toPandas()[columns[t]] for t, f in tables.items()})
    for table, frame in tables.items():
        if table != "creators" and "creator_id" not in frame.columns:
            raise ContractError(f"table {table}: required column creator_id missing")

    bundle = _ship(spark, scorer)
    features = _feature_columns(scorer)
    n = tables["creators"].count()
    n_groups = max(1, math.ceil(n / max(1, rows_per_group)))

    def group_of(frame: DataFrame):
        return F.pmod(F.xxhash64(_id_key(frame)), F.lit(n_groups))

    creators = tables["creators"].withColumn(_GROUP, group_of(tables["creators"]))
    parts = []
    for table in CHILD_TABLES:
        if table in tables:
            frame = tables[table]
            parts.append(
                frame.select(
                    group_of(frame).alias(_GROUP),
                    F.lit(table).alias(_TABLE),
                    F.col(ROW),
                    *[F.col(f"`{c}`").alias(f"{table}{_SEP}{c}") for c in columns[table]],
                )
            )
    if parts:
        children = parts[0]
        for part in parts[1:]:
            children = children.unionByName(part, allowMissingColumns=True)
    else:
        schema = T.StructType(
            [
                T.StructField(_GROUP, T.LongType()),
                T.StructField(_TABLE, T.StringType()),
                T.StructField(ROW, T.LongType()),
            ]
        )
        children = spark.createDataFrame([], schema)

    out_schema = T.StructType(
        [
            T.StructField(ROW, T.LongType()),
            T.StructField("creator_id", T.StringType()),
            T.StructField(_OK, T.BooleanType()),
            T.StructField(_ERROR, T.StringType()),
            T.StructField(_FOLLOWERS, T.DoubleType()),
            T.StructField(_COUNTRY, T.StringType()),
            T.StructField(_AS_OF, T.LongType()),
            *[T.StructField(c, T.DoubleType()) for c in features],
        ]
    )

    def run(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        if not len(left):  # child rows of creators not in the creators table: nobody to score
            return pd.DataFrame({f.name: pd.Series([], dtype=object) for f in out_schema.fields})
        return _group_features(
            left, right, bundle=bundle, columns=columns, features=features, as_of=as_of
        )

    return (
        creators.groupBy(_GROUP)
        .cogroup(children.groupBy(_GROUP))
        .applyInPandas(run, schema=out_schema)
    )


# --------------------------------------------------------------------------------------------
# Scores


def _batch_data(batch: pd.DataFrame, features: list[str]) -> tuple[CreatorData, pd.DataFrame]:
    """A ``CreatorData`` and feature frame for ``Scorer.score_features`` from feature rows."""
    ok = batch[_OK].to_numpy(dtype=bool)
    good = batch[ok]
    day = pd.to_datetime(good[_AS_OF].astype("float64"), unit="ns")
    creators = pd.DataFrame(
        {
            "creator_id": good["creator_id"].to_numpy(dtype=object),
            "followers": good[_FOLLOWERS].to_numpy("float64"),
            "country": good[_COUNTRY].to_numpy(dtype=object),
            "snapshot_at": day.to_numpy(dtype="datetime64[ns]"),
        }
    )
    errors = batch.loc[~ok, [_ERROR, "creator_id"]]
    data = CreatorData(
        creators=creators,
        follower_history=None,
        posts=None,
        comments=None,
        audience_sample=None,
        brands=None,
        creator_ids=batch["creator_id"].tolist(),
        errors=pd.DataFrame(),
        unscorable={c: e for e, c in errors.itertuples(index=False) if e},
    )
    X = good[features].set_axis(pd.Index(good["creator_id"], dtype=object, name="creator_id"))
    return data, X


def score_spark(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    model_uri,
    *,
    reasons: str = "flagged",
    as_of=None,
    rows_per_group: int = 2_000,
    in_order: bool = True,
) -> DataFrame:
    """Score every creator on Spark: the ``SCORE_COLUMNS`` of the data contract.

    Parameters
    ----------
    spark : the session (:func:`spark_session`).
    tables : contract tables as Spark DataFrames (:func:`read_tables`).
    model_uri : MLflow model URI or bundle folder (or a loaded ``Scorer``).
    reasons : ``"flagged"``, ``"all"`` or ``"none"`` (see ``Scorer.score``).
    as_of : one snapshot day for all creators (default: each creator's own).
    rows_per_group : creators per pandas call in the feature step.
    in_order : sort the result into input order. Spark's sort first samples its input, which
        recomputes the features unless the unsorted scores are cached: for large runs use
        ``in_order=False``, ``persist()`` and ``orderBy`` yourself (``score_folder_spark`` does).

    Returns
    -------
    pyspark DataFrame with exactly the columns of ``features.schema.SCORE_COLUMNS`` (with
    ``in_order=False`` also ``_row`` first, the creators row): one row per ``creators`` row, bad
    rows with ``status="error"`` and the pandas path's message.
    """
    from pyspark.sql import types as T

    if reasons not in ("flagged", "all", "none"):
        raise ValueError(f"reasons must be 'flagged', 'all' or 'none', not {reasons!r}")
    scorer = _load_scorer(model_uri)
    features_ = feature_frame(spark, tables, scorer, as_of=as_of, rows_per_group=rows_per_group)
    bundle = _ship(spark, scorer)
    features = [c for c in features_.columns if c not in _META]
    schema = T.StructType(
        [
            T.StructField(ROW, T.LongType()),
            *[
                T.StructField(c, T.DoubleType() if c in _FLOATS else T.StringType())
                for c in SCORE_COLUMNS
            ],
        ]
    )

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = _executor_scorer(*bundle)
        for batch in batches:
            data, X = _batch_data(batch, features)
            out = scorer.score_features(data, X, reasons=reasons, as_of=as_of)
            out.insert(0, ROW, batch[ROW].to_numpy(dtype="int64"))
            yield out

    scores = features_.mapInPandas(run, schema=schema)
    if in_order:
        scores = scores.orderBy(ROW)
        return scores.select(*SCORE_COLUMNS)
    return scores.select(ROW, *SCORE_COLUMNS)


_META = (ROW, "creator_id", _OK, _ERROR, _FOLLOWERS, _COUNTRY, _AS_OF)


# --------------------------------------------------------------------------------------------
# Fit


def fit_spark(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    brands,
    model_uri,
    *,
    top: int | None = None,
    reasons: bool = True,
    top_k: int = 4,
    rows_per_group: int = 2_000,
) -> DataFrame:
    """Brand fit of every brand x creator pair on Spark: the ``FIT_COLUMNS`` of the contract.

    Same rows, order and numbers as ``Scorer.fit``: brands in table order; within a brand the
    scored pairs by ``fit_rank`` (ties to the smaller ``creator_id``), then one error row per
    unscorable creator (input order); a bad brand row as one error row in its table position.

    Parameters
    ----------
    tables : contract tables as Spark DataFrames (:func:`read_tables`).
    brands : the ``brands`` table: a pandas or Spark DataFrame, or a file. Brands are few, so
        they are validated on the driver and broadcast.
    model_uri : MLflow model URI or bundle folder (or a loaded ``Scorer``).
    top : keep the best ``top`` creators per brand; default every pair.
    reasons : compute reasons for the pairs returned.

    The per-creator feature frame behind the result is cached (``persist``), as both the pairs
    and the error rows come from it; ``spark.catalog.clearCache()`` releases it.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from models import PAIR_FEATURES
    from serving.predict import _bad_brand_positions, load_brands

    scorer = _load_scorer(model_uri)
    if hasattr(brands, "toPandas"):
        brands = brands.toPandas()
    good_brands, bad_brands = load_brands(brands)
    # Used twice (scored pairs, error rows): cached so the features are built once.
    features_ = feature_frame(spark, tables, scorer, rows_per_group=rows_per_group).persist()
    bundle = _ship(spark, scorer)
    features = [c for c in features_.columns if c not in _META]
    pair_cols = list(PAIR_FEATURES)
    pair_schema = T.StructType(
        [
            T.StructField("brand_id", T.StringType()),
            T.StructField("creator_id", T.StringType()),
            T.StructField("raw", T.DoubleType()),
            T.StructField("fit_score", T.DoubleType()),
            T.StructField("fit_fraud_risk", T.DoubleType()),
            *[T.StructField(c, T.DoubleType()) for c in pair_cols if c != "fit_fraud_risk"],
        ]
    )
    names = [f.name for f in pair_schema.fields]

    def pairs_of(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = _executor_scorer(*bundle)
        for batch in batches:
            data, X = _batch_data(batch, features)
            if not len(X):
                continue
            pairs, _ = scorer.pair_scores(data, X, good_brands)
            pairs["brand_id"] = pairs["brand_id"].astype(str)
            pairs["creator_id"] = pairs["creator_id"].astype(str)
            yield pairs[names]

    scored = features_.filter(F.col(_OK)).mapInPandas(pairs_of, schema=pair_schema)
    by_brand = Window.partitionBy("brand_id").orderBy(F.desc("raw"), F.asc("creator_id"))
    ranked = scored.withColumn("fit_rank", F.row_number().over(by_brand).cast("long"))
    if top is not None:
        ranked = ranked.filter(F.col("fit_rank") <= top)

    def with_reasons(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import json

        scorer = _executor_scorer(*bundle)
        for batch in batches:
            texts = np.full(len(batch), "[]", dtype=object)
            if reasons and len(batch):
                found = scorer.bundle.fit_model.reasons(batch, None, top_k=top_k)
                texts[:] = [json.dumps(r, ensure_ascii=False) for r in found]
            yield pd.DataFrame(
                {
                    "brand_id": batch["brand_id"],
                    "creator_id": batch["creator_id"],
                    "fit_score": batch["fit_score"],
                    "fit_rank": batch["fit_rank"],
                    "fraud_risk": batch["fit_fraud_risk"],
                    "reasons": texts,
                }
            )

    ok_schema = T.StructType(
        [
            T.StructField("brand_id", T.StringType()),
            T.StructField("creator_id", T.StringType()),
            T.StructField("fit_score", T.DoubleType()),
            T.StructField("fit_rank", T.LongType()),
            T.StructField("fraud_risk", T.DoubleType()),
            T.StructField("reasons", T.StringType()),
        ]
    )
    brand_ids = good_brands["brand_id"].astype(str).tolist()
    positions = spark.createDataFrame(
        pd.DataFrame({"brand_id": brand_ids, "_b": np.arange(len(brand_ids), dtype="float64")}),
        schema="brand_id string, _b double",
    )
    ok = (
        ranked.mapInPandas(with_reasons, schema=ok_schema)
        .join(F.broadcast(positions), on="brand_id")
        .select(
            "brand_id",
            "creator_id",
            F.lit("ok").alias("status"),
            F.lit("").alias("error"),
            "fit_score",
            "fit_rank",
            "fraud_risk",
            "reasons",
            "_b",
            F.lit(0).alias("_g"),
            F.col("fit_rank").cast("double").alias("_k"),
        )
    )
    unscorable = features_.filter((F.col(_ERROR) != "") | (F.col("creator_id") == ""))
    errs = unscorable.crossJoin(F.broadcast(positions)).select(
        "brand_id",
        "creator_id",
        F.lit("error").alias("status"),
        F.col(_ERROR).alias("error"),
        F.lit(None).cast("double").alias("fit_score"),
        F.lit(None).cast("long").alias("fit_rank"),
        F.lit(None).cast("double").alias("fraud_risk"),
        F.lit("[]").alias("reasons"),
        "_b",
        F.lit(1).alias("_g"),
        F.col(ROW).cast("double").alias("_k"),
    )
    bad = spark.createDataFrame(
        pd.DataFrame(
            {
                "brand_id": bad_brands["brand_id"].astype(str).to_numpy(dtype=object),
                "creator_id": "",
                "status": "error",
                "error": bad_brands["error"].astype(str).to_numpy(dtype=object),
                "fit_score": np.nan,
                "fit_rank": pd.array([None] * len(bad_brands), dtype="Int64"),
                "fraud_risk": np.nan,
                "reasons": "[]",
                "_b": _bad_brand_positions(bad_brands, len(brand_ids)),
                "_g": 2,
                "_k": np.arange(len(bad_brands), dtype="float64"),
            }
        ),
        schema=ok.schema,
    )
    return (
        ok.unionByName(errs)
        .unionByName(bad)
        .orderBy("_b", "_g", "_k")
        .withColumn("model_version", F.lit(scorer.model_version))
        .select(*FIT_COLUMNS)
    )


# --------------------------------------------------------------------------------------------
# Folder to folder


def score_folder_spark(
    spark: SparkSession,
    data: str | Path,
    out: str | Path,
    model_uri,
    *,
    reasons: str = "flagged",
    rows_per_group: int = 2_000,
) -> int:
    """Score a dataset folder with Spark into ``out``, a folder of Parquet part files.

    The parts are written in input order (``part-00000`` holds the first creators), so reading
    the folder back in file-name order gives the creators table's order. Returns the row count.
    """
    from pyspark import StorageLevel

    tables = read_tables(spark, data)
    scores = score_spark(
        spark, tables, model_uri, reasons=reasons, rows_per_group=rows_per_group, in_order=False
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        # The sort samples the cached scores, so the features are computed once.
        n = scores.count()
        target = str(Path(out).resolve()) if "://" not in str(out) else str(out)
        scores.orderBy(ROW).drop(ROW).write.mode("overwrite").parquet(target)
    finally:
        scores.unpersist()
    return n

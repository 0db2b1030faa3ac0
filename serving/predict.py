"""The predict module: load one bundle, then score creators and brand x creator pairs.

>>> scorer = Scorer.load("models:/creatorscore@champion")     # doctest: +SKIP
>>> scores = scorer.score("data/")                             # doctest: +SKIP
>>> fit = scorer.fit("data/", "data/brands.csv")               # doctest: +SKIP

``score`` and ``fit`` return exactly the output columns of the data contract (SCHEMA.md,
"Outputs"; ``features.schema.SCORE_COLUMNS`` and ``FIT_COLUMNS``): one row per input creator in
input order (or per pair), a creator whose rows break the contract included with
``status="error"`` and the loader's message.

With ``extra=True`` the optional output columns follow (``SCORE_EXTRA_COLUMNS``): how much
evidence each score rests on, a 90% interval for ``audience_fake_share``, a confidence grade for
``fraud_risk`` and the ``low_quality_audience`` band with its own reasons. :meth:`Scorer.explain`
adds the evidence rows behind them (``features.evidence``).

Reasons come from SHAP values, about 100x slower than the prediction itself, so by default they
are computed only for the rows a reader will look at: creators whose risk band is medium or high
(``reasons="flagged"``); ``"all"`` and ``"none"`` are the alternatives.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from features import build, resolve_as_of
from features.dataset import ContractError, CreatorData, load
from features.evidence import evidence_count_arrays, evidence_rows
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, SCORE_EXTRA_COLUMNS, tier_of
from models import Bundle, brand_topics, pair_features
from models._boosting import feature_matrix
from models.confidence import (
    account_rate_counts,
    audience_band,
    fraud_confidence,
    likelihood_share_bounds,
    low_quality_share,
)

__all__ = [
    "DEFAULT_MODEL_URI",
    "RISK_BANDS",
    "ReasonsMode",
    "Scorer",
    "load_brands",
    "risk_band",
]

#: The registered champion in the configured MLflow store (``MLFLOW_TRACKING_URI``).
DEFAULT_MODEL_URI = "models:/creatorscore@champion"

#: Lower bound of each risk band on ``fraud_risk``: low < 0.2 <= medium < 0.5 <= high. A
#: calibrated 0.2 is about the base rate of bought followers among vetted creators (15-20%), so
#: "medium" means "riskier than a creator picked at random"; 0.5 means "more likely than not".
RISK_BANDS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 0.2), ("high", 0.5))

ReasonsMode = Literal["flagged", "all", "none"]

#: Two-sided coverage of ``audience_fake_share_low`` / ``_high``.
INTERVAL_LEVEL = 0.9

# What an optional score column holds for a creator that could not be scored.
_EXTRA_FILLS = {
    "fraud_confidence": None,
    "audience_fake_share_low": np.nan,
    "audience_fake_share_high": np.nan,
    "low_quality_audience": None,
    "audience_reasons": "[]",
    "evidence": None,
}

# Feature columns that the output contract reports directly.
_FAKE_SHARE = "aud_fake_share"
_ER = "eng_er_median"
_ER_EXPECTED = "eng_er_expected"


def risk_band(risk) -> np.ndarray:
    """Band name per ``fraud_risk`` (object array; ``None`` where the risk is unknown).

    >>> risk_band([0.05, 0.2, 0.49, 0.5, float("nan")]).tolist()
    ['low', 'medium', 'medium', 'high', None]
    """
    p = np.asarray(risk, dtype="float64")
    names = np.asarray([name for name, _ in RISK_BANDS], dtype=object)
    bounds = np.asarray([low for _, low in RISK_BANDS[1:]], dtype="float64")
    out = names[np.searchsorted(bounds, p, side="right")]
    return np.where(np.isnan(p), None, out)


def _as_data(data: CreatorData | str | Path | Mapping[str, pd.DataFrame]) -> CreatorData:
    return data if isinstance(data, CreatorData) else load(data)


def load_brands(brands: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a ``brands`` table alone.

    Parameters
    ----------
    brands : the raw table (DataFrame) or a file (``.csv``, ``.parquet``, ``.jsonl`` ...).

    Returns
    -------
    good : the valid brands, loaded representation.
    bad : one row per invalid brand row, columns ``brand_id`` (as given, "" when missing),
        ``error`` (every problem of that row) and ``row`` (1-based), in table order.
    """
    from features.dataset import read_table

    raw = brands if isinstance(brands, pd.DataFrame) else read_table(brands)
    if "brand_id" not in raw.columns:
        raise ContractError(f"brands: required column brand_id missing; found {list(raw.columns)}")
    empty = pd.DataFrame({"creator_id": pd.Series([], dtype=object), "followers": []})
    loaded = load({"creators": empty, "brands": raw.reset_index(drop=True)})
    errors = loaded.errors[loaded.errors["table"] == "brands"]
    if errors.empty:
        return loaded.brands, pd.DataFrame({"brand_id": [], "error": [], "row": []}, dtype=object)
    text = "brands row " + errors["row"].astype(str) + ", column " + errors["column"] + ": "
    text = text + errors["problem"]
    per_row = text.groupby(errors["row"].to_numpy(), sort=True).agg("; ".join)
    ids = raw["brand_id"].to_numpy(dtype=object)[per_row.index.to_numpy() - 1]
    ids = np.array(["" if pd.isna(v) else str(v) for v in ids], dtype=object)
    bad = pd.DataFrame(
        {"brand_id": ids, "error": per_row.to_numpy(dtype=object), "row": per_row.index.to_numpy()}
    )
    return loaded.brands, bad


def _registry_version(uri: str) -> str | None:
    """``name/version`` for a ``models:/name@alias`` or ``models:/name/3`` URI, else None."""
    if not uri.startswith("models:/"):
        return None
    rest = uri[len("models:/") :].strip("/")
    from mlflow import MlflowClient

    client = MlflowClient()
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return f"{name}/{client.get_model_version_by_alias(name, alias).version}"
    name, _, version = rest.partition("/")
    if version.isdigit():
        return f"{name}/{version}"
    if version in ("", "latest"):
        versions = client.search_model_versions(f"name='{name}'")
        return f"{name}/{max(int(v.version) for v in versions)}" if versions else None
    return None


def _download(uri: str) -> Path:
    """The bundle folder inside a logged MLflow model, downloaded to a private temporary folder."""
    # Serving never unpickles: the bundle is plain files, and this keeps MLflow from trying.
    os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    try:
        from training.tracking import download_bundle
    except ImportError:  # the tracking module is optional at serving time
        download_bundle = None
    if download_bundle is not None:
        return Path(download_bundle(uri))
    import mlflow

    dst = Path(tempfile.mkdtemp(prefix="creatorscore-model-"))
    root = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst)))
    found = sorted(root.rglob("bundle/manifest.json"))
    if not found:
        raise FileNotFoundError(f"{uri}: the model holds no bundle (no bundle/manifest.json)")
    return found[0].parent


class Scorer:
    """One loaded bundle and the functions that score with it.

    Parameters
    ----------
    bundle : a loaded :class:`models.Bundle`.
    model_version : what every output row names; default the bundle's content hash.
    folder : the verified bundle folder it was loaded from (batch workers reload from it).
    """

    def __init__(
        self, bundle: Bundle, model_version: str | None = None, folder: Path | None = None
    ) -> None:
        self.bundle = bundle
        self.model_version = model_version or bundle.version
        self.folder = folder

    @classmethod
    def load(cls, model: str | Path = DEFAULT_MODEL_URI) -> Scorer:
        """Verify the checksums and load a bundle from a local folder or an MLflow model URI.

        Parameters
        ----------
        model : a bundle folder, a registry URI (``models:/creatorscore@champion``,
            ``models:/creatorscore/3``) or a run URI (``runs:/<run id>/model``). A registry URI
            gives ``model_version = "<name>/<version>"``; anything else the bundle's content hash.
        """
        text = str(model)
        if "://" in text or text.startswith("models:/") or text.startswith("runs:/"):
            folder = _download(text)
            version = _registry_version(text)
        else:
            folder, version = Path(model), None
            if not folder.is_dir():
                raise FileNotFoundError(f"{folder}: no such bundle folder")
        return cls(Bundle.load(folder), version, folder)

    # ------------------------------------------------------------------ features
    def features(self, data: CreatorData | str | Path | Mapping[str, pd.DataFrame], as_of=None):
        """The feature frame of the scorable creators of ``data`` (``features.build``).

        Returns ``(data, X)``: the loaded data and the frame indexed by creator_id.
        """
        data = _as_data(data)
        b = self.bundle
        X = build(
            data,
            as_of=as_of,
            text_model=b.text_model,
            account_model=b.account_model,
            curve=b.engagement_curve,
        )
        return data, X

    # -------------------------------------------------------------------- scores
    def score(
        self,
        data: CreatorData | str | Path | Mapping[str, pd.DataFrame],
        *,
        reasons: ReasonsMode = "flagged",
        top_k: int = 4,
        as_of=None,
        extra: bool = False,
    ) -> pd.DataFrame:
        """Fraud risk, band, engagement and reasons: one row per input creator, in input order.

        Parameters
        ----------
        data : a dataset folder, a mapping of table name to DataFrame, or loaded ``CreatorData``.
        reasons : ``"flagged"`` (medium and high risk rows), ``"all"`` or ``"none"``; rows
            without computed reasons hold ``"[]"``.
        top_k : reasons per row.
        as_of : one snapshot day for all creators (default: each creator's own).
        extra : also return the optional columns ``features.schema.SCORE_EXTRA_COLUMNS``.

        Returns
        -------
        DataFrame with exactly the columns of ``features.schema.SCORE_COLUMNS`` (followed by
        ``SCORE_EXTRA_COLUMNS`` with ``extra=True``).
        """
        data, X = self.features(data, as_of)
        return self.score_features(data, X, reasons=reasons, top_k=top_k, as_of=as_of, extra=extra)

    def score_features(
        self,
        data: CreatorData,
        X: pd.DataFrame,
        *,
        reasons: ReasonsMode = "flagged",
        top_k: int = 4,
        as_of=None,
        extra: bool = False,
    ) -> pd.DataFrame:
        """:meth:`score` from an already built feature frame ``X`` of ``data``."""
        if reasons not in ("flagged", "all", "none"):
            raise ValueError(f"reasons must be 'flagged', 'all' or 'none', not {reasons!r}")
        model = self.bundle.fraud_model
        risk = model.predict_proba(X) if len(X) else np.empty(0)
        band = risk_band(risk)
        texts = np.full(len(X), "[]", dtype=object)
        pick = (
            np.ones(len(X), bool)
            if reasons == "all"
            else (band != "low") & (band != None)  # noqa: E711 (elementwise on objects)
            if reasons == "flagged"
            else np.zeros(len(X), bool)
        )
        if pick.any():
            # Every row flagged (often the one creator of a request): the frame itself.
            rows = X if pick.all() else X.iloc[np.flatnonzero(pick)]
            # The reasons take each row's day from the days by creator id.
            found = model.reasons(rows, resolve_as_of(data, as_of), top_k=top_k)
            texts[pick] = [json.dumps(r, ensure_ascii=False) for r in found]

        ids = pd.Index(data.creator_ids, dtype=object)
        if X.index.equals(ids) and X.index.is_unique:
            # The usual case (every creator scorable): the frame's rows are the output's rows.
            pos = np.arange(len(ids))
        else:
            pos = X.index.get_indexer(ids) if X.index.is_unique else _first_positions(X.index, ids)
        ok = pos >= 0
        take = np.where(ok, pos, 0)

        def col(values: np.ndarray, fill) -> np.ndarray:
            out = values[take] if len(values) else np.full(len(ids), fill, dtype=object)
            return np.where(ok, out, fill)

        followers = _followers(data.creators, X.index)
        share, er, er_expected = _features(X, (_FAKE_SHARE, _ER, _ER_EXPECTED))
        # Only error rows need a message: a loop over them, not over every creator.
        errors = np.full(len(ids), "", dtype=object)
        for i in np.flatnonzero(~ok):
            cid = ids[i]
            errors[i] = data.error_for(cid) or f"creator {cid!r} could not be scored"
        columns = {
            "creator_id": ids.to_numpy(dtype=object),
            "status": np.where(ok, "ok", "error").astype(object),
            "error": errors,
            "fraud_risk": col(risk, np.nan).astype("float64"),
            "risk_band": col(band.astype(object), None),
            "audience_fake_share": col(share, np.nan).astype("float64"),
            "engagement_rate": col(er, np.nan).astype("float64"),
            "expected_engagement_rate": col(er_expected, np.nan).astype("float64"),
            "tier": col(np.asarray(tier_of(followers), object), None),
            "reasons": col(texts, "[]"),
            "model_version": np.full(len(ids), self.model_version, dtype=object),
        }
        names = list(SCORE_COLUMNS)
        if extra:
            more = self._confidence_columns(X)
            for name in SCORE_EXTRA_COLUMNS:
                values, fill = more[name], _EXTRA_FILLS[name]
                if fill is np.nan:
                    columns[name] = col(np.asarray(values, dtype="float64"), np.nan).astype(
                        "float64"
                    )
                else:
                    columns[name] = col(np.asarray(values, dtype=object), fill)
            names += SCORE_EXTRA_COLUMNS
        # One frame in the contract's column order, built once: inserting columns one by one
        # and reordering cost more than the scoring itself for a one-creator request.
        return _frame([columns[name] for name in names], tuple(names), len(ids))

    # ---------------------------------------------------------------- confidence
    def confidence(self, X: pd.DataFrame) -> pd.DataFrame:
        """The optional score columns (``SCORE_EXTRA_COLUMNS``) of each row of ``X``.

        - ``evidence``: JSON counts of what the scores rest on (``features.evidence``).
        - ``fraud_confidence``: high / medium / low from that evidence
          (:func:`models.confidence.fraud_confidence`).
        - ``audience_fake_share_low`` / ``_high``: the :data:`INTERVAL_LEVEL` interval of the
          fake share from its standard error and the account model's held-out error rates
          (:func:`models.confidence.likelihood_share_interval`).
        - ``low_quality_audience`` and ``audience_reasons``: the audience-quality band and its
          reasons, apart from ``fraud_risk`` (a low-quality audience happens to honest
          creators too).
        """
        return pd.DataFrame(self._confidence_columns(X), index=X.index, copy=False)

    def _confidence_columns(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """:meth:`confidence` as arrays aligned with ``X`` (no frame: the scorer picks them)."""
        counts = evidence_count_arrays(X)
        share, se, mass = _features(
            X, (_FAKE_SHARE, "aud_fake_share_se", "aud_mass_follower_share")
        )
        low = high = np.full(len(X), np.nan)
        model = self.bundle.account_model
        if model is not None and len(X):
            n_fake, n_real = account_rate_counts(getattr(model, "metrics_", {}))
            _, iv_low, iv_high = likelihood_share_bounds(
                share, se, model.tpr, model.fpr, n_fake, n_real, level=INTERVAL_LEVEL
            )
            known = np.isfinite(share)
            low = np.where(known, iv_low, np.nan)
            high = np.where(known, iv_high, np.nan)
        return {
            "evidence": _json_counts(counts, len(X)),
            "fraud_confidence": fraud_confidence(counts),
            "audience_fake_share_low": low,
            "audience_fake_share_high": high,
            "low_quality_audience": audience_band(low_quality_share(share, mass)),
            "audience_reasons": _audience_reasons(X, low, high),
        }

    # ------------------------------------------------------------------- explain
    def explain(
        self,
        data: CreatorData | str | Path | Mapping[str, pd.DataFrame],
        creator_ids=None,
        *,
        top: int = 10,
        top_k: int = 6,
        as_of=None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Scores with every optional column and reasons, and the evidence rows behind them.

        Parameters
        ----------
        data : a dataset folder, a mapping of table name to DataFrame, or ``CreatorData``.
        creator_ids : creators to explain (default: all); each must be in ``data``.
        top : at most this many fake-looking followers and repeated commenters per creator.
        top_k : reasons per creator.
        as_of : one snapshot day for all creators (default: each creator's own).

        Returns
        -------
        scores : ``SCORE_COLUMNS`` + ``SCORE_EXTRA_COLUMNS`` of the chosen creators, reasons for
            every one of them.
        evidence : ``features.evidence.EVIDENCE_COLUMNS`` rows (dates of follower jumps and
            drops, posts with bought-looking likes or pod comments, the most fake-looking
            sampled followers, repeated commenters), creators in the order of ``scores``.

        Raises
        ------
        KeyError
            If a requested creator is not in ``data``.
        """
        data = _as_data(data)
        if creator_ids is not None:
            wanted = pd.Index(np.asarray(creator_ids, dtype=object))
            missing = wanted.difference(pd.Index(data.creator_ids, dtype=object))
            if len(missing):
                raise KeyError(f"creator(s) not in the data: {', '.join(map(str, missing[:5]))}")
            data = _subset(data, wanted)
        data, X = self.features(data, as_of)
        return self.explain_features(data, X, top=top, top_k=top_k, as_of=as_of)

    def explain_features(
        self,
        data: CreatorData,
        X: pd.DataFrame,
        *,
        top: int = 10,
        top_k: int = 6,
        as_of=None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:meth:`explain` of every creator of ``data`` from its built feature frame ``X``."""
        scores = self.score_features(data, X, reasons="all", top_k=top_k, as_of=as_of, extra=True)
        ids = scores.loc[scores["status"] == "ok", "creator_id"].to_numpy(dtype=object)
        rows = evidence_rows(
            data,
            ids,
            account_model=self.bundle.account_model,
            as_of=resolve_as_of(data, as_of),
            top=top,
        )
        return scores, rows

    # ----------------------------------------------------------------------- fit
    def pair_scores(
        self, data: CreatorData, X: pd.DataFrame, brands: pd.DataFrame
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Pair features of every valid brand x scorable creator, with ``raw`` and ``fit_score``.

        Also returns the creators' fraud risk (aligned with ``X``). Used by :meth:`fit` and by
        the chunked batch scorer, which ranks across chunks from ``raw``.
        """
        b = self.bundle
        if b.fit_model is None or b.text_model is None:
            raise ValueError("this bundle has no fit model (or no text model): cannot score fit")
        risk = b.fraud_model.predict_proba(X) if len(X) else np.empty(0)
        brief, excluded = brand_topics(b.text_model, brands)
        pairs = pair_features(
            brands, data.creators, X, brief, excluded, pd.Series(risk, index=X.index)
        )
        raw = b.fit_model.raw_score(pairs) if len(pairs) else np.empty(0)
        pairs["raw"] = raw
        pairs["fit_score"] = b.fit_model.calibrator_.transform(raw) if len(pairs) else raw
        return pairs, risk

    def fit(
        self,
        data: CreatorData | str | Path | Mapping[str, pd.DataFrame],
        brands: pd.DataFrame | str | Path,
        *,
        top: int | None = None,
        reasons: bool = True,
        top_k: int = 4,
    ) -> pd.DataFrame:
        """Brand fit of every (brand, creator) pair, or the best ``top`` creators per brand.

        Parameters
        ----------
        data : creators to rank (folder, mapping of tables or ``CreatorData``).
        brands : the ``brands`` table (DataFrame or file).
        top : keep the best ``top`` creators of each brand; default every pair.
        reasons : compute reasons for the pairs returned.

        Returns
        -------
        DataFrame with exactly ``features.schema.FIT_COLUMNS``. Order: brands in table order;
        within a brand the ok pairs by ``fit_rank``, then one error row per unscorable creator
        (input order). A brand row that breaks the contract gives one error row with an empty
        ``creator_id``, in its table position.
        """
        data, X = self.features(data)
        good_brands, bad_brands = load_brands(brands)
        pairs, _ = self.pair_scores(data, X, good_brands)
        return self.assemble_fit(pairs, good_brands, bad_brands, data, top, reasons, top_k)

    def assemble_fit(
        self,
        pairs: pd.DataFrame,
        brands: pd.DataFrame,
        bad_brands: pd.DataFrame,
        data: CreatorData | None,
        top: int | None,
        reasons: bool,
        top_k: int = 4,
        bad_creators: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Rank scored pairs within each brand, keep ``top``, add reasons and the error rows.

        ``bad_creators`` (``creator_id``, ``error``) defaults to the unscorable creators of
        ``data`` in input order.
        """
        from models import rank_within

        if bad_creators is None:
            ids = [c for c in data.creator_ids if c in data.unscorable or c == ""]
            bad_creators = pd.DataFrame(
                {"creator_id": ids, "error": [data.error_for(c) for c in ids]}, dtype=object
            )
        pairs = pairs.reset_index(drop=True)
        rank = rank_within(pairs["brand_id"], pairs["raw"], pairs["creator_id"].astype(str))
        pairs["fit_rank"] = rank
        if top is not None:
            pairs = pairs[pairs["fit_rank"] <= top].reset_index(drop=True)
        texts = np.full(len(pairs), "[]", dtype=object)
        if reasons and len(pairs):
            found = self.bundle.fit_model.reasons(pairs, None, top_k=top_k)
            texts[:] = [json.dumps(r, ensure_ascii=False) for r in found]
        brand_ids = brands["brand_id"].astype(str).tolist()
        brand_pos = {b: i for i, b in enumerate(brand_ids)}
        ok = pd.DataFrame(
            {
                "brand_id": pairs["brand_id"].to_numpy(dtype=object),
                "creator_id": pairs["creator_id"].to_numpy(dtype=object),
                "status": "ok",
                "error": "",
                "fit_score": pairs["fit_score"].to_numpy("float64"),
                "fit_rank": pairs["fit_rank"].astype("Int64"),
                "fraud_risk": pairs["fit_fraud_risk"].to_numpy("float64"),
                "reasons": texts,
                "_b": pairs["brand_id"].map(brand_pos).to_numpy(),
                "_g": 0,
                "_k": pairs["fit_rank"].to_numpy(),
            }
        )
        nb, nc = len(brand_ids), len(bad_creators)
        errs = pd.DataFrame(
            {
                "brand_id": np.repeat(np.asarray(brand_ids, dtype=object), nc),
                "creator_id": np.tile(bad_creators["creator_id"].to_numpy(dtype=object), nb),
                "status": "error",
                "error": np.tile(bad_creators["error"].to_numpy(dtype=object), nb),
                "fit_score": np.nan,
                "fit_rank": pd.array([pd.NA] * (nb * nc), dtype="Int64"),
                "fraud_risk": np.nan,
                "reasons": "[]",
                "_b": np.repeat(np.arange(nb), nc),
                "_g": 1,
                "_k": np.tile(np.arange(nc), nb),
            }
        )
        # A bad brand sits where it was in the brands table: between the good brands around it.
        raw_pos = _bad_brand_positions(bad_brands, len(brand_ids))
        bad = pd.DataFrame(
            {
                "brand_id": bad_brands["brand_id"].to_numpy(dtype=object),
                "creator_id": "",
                "status": "error",
                "error": bad_brands["error"].to_numpy(dtype=object),
                "fit_score": np.nan,
                "fit_rank": pd.array([pd.NA] * len(bad_brands), dtype="Int64"),
                "fraud_risk": np.nan,
                "reasons": "[]",
                "_b": raw_pos,
                "_g": 2,
                "_k": np.arange(len(bad_brands)),
            }
        )
        parts = [p for p in (ok, errs, bad) if len(p)]
        if not parts:
            out = ok
        else:
            out = pd.concat(parts, ignore_index=True)
        out = out.sort_values(["_b", "_g", "_k"], kind="stable").reset_index(drop=True)
        out["model_version"] = self.model_version
        return out[list(FIT_COLUMNS)]


def _bad_brand_positions(bad_brands: pd.DataFrame, n_good: int) -> np.ndarray:
    """Sort keys placing bad brands after the good brands that preceded them in the table."""
    if "row" in bad_brands.columns:
        rows = bad_brands["row"].to_numpy("float64")
        return rows - np.arange(1, len(rows) + 1) - 0.5
    return np.full(len(bad_brands), n_good, dtype="float64")


try:  # pandas' step from column arrays to a frame's blocks, without the constructor's checks
    from pandas.core.internals.construction import arrays_to_mgr as _arrays_to_mgr
except ImportError:  # pragma: no cover (a pandas release without it: the constructor below)
    _arrays_to_mgr = None


@functools.lru_cache(maxsize=8)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The columns Index of an output frame: one per column list, each frame gets a view."""
    return pd.Index(list(names))


def _frame(arrays: list[np.ndarray], names: tuple[str, ...], n: int) -> pd.DataFrame:
    """The output frame of ``n`` rows holding ``arrays`` (1-D, in their final dtypes) as given.

    What ``pd.DataFrame(dict(zip(names, arrays)), copy=False)`` gives: the arrays are float64
    or object arrays of str and None, which the constructor's per-column inference (~5 us a
    column, most of a one-creator call's frame) cannot change, so it is skipped.
    """
    if _arrays_to_mgr is None:  # pragma: no cover
        return pd.DataFrame(
            dict(zip(names, arrays, strict=True)), index=pd.RangeIndex(n), copy=False
        )
    mgr = _arrays_to_mgr(
        arrays,
        _column_index(names).view(),
        pd.RangeIndex(n),
        verify_integrity=False,
        typ="block",
        consolidate=False,
    )
    return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)


def _followers(creators: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """``followers`` of each creator of ``index`` (the feature frame's rows), as float64."""
    values = creators["followers"].to_numpy("float64")
    own = creators["creator_id"].to_numpy(dtype=object)
    # The usual case: the frame has the creators' rows in their order (compared as arrays: an
    # Index of the ids, to compare Index with Index, cost as much as the rest of this).
    if len(own) == len(index) and np.array_equal(own, index.to_numpy(dtype=object)):
        return values
    return pd.Series(values, index=pd.Index(own)).reindex(index).to_numpy("float64")


def _first_positions(index: pd.Index, ids: pd.Index) -> np.ndarray:
    first = ~index.duplicated()
    return pd.Index(index[first]).get_indexer(ids).astype(np.int64)


def _subset(data: CreatorData, wanted: pd.Index) -> CreatorData:
    """The rows of ``data`` that belong to the ``wanted`` creators (every table, errors too)."""
    import dataclasses

    keep = set(wanted)

    def rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None:
            return None
        return table[table["creator_id"].isin(wanted)].reset_index(drop=True)

    return dataclasses.replace(
        data,
        creators=rows(data.creators),
        follower_history=rows(data.follower_history),
        posts=rows(data.posts),
        comments=rows(data.comments),
        audience_sample=rows(data.audience_sample),
        creator_ids=[c for c in data.creator_ids if c in keep],
        errors=data.errors[data.errors["creator_id"].isin(wanted)].reset_index(drop=True),
        unscorable={c: m for c, m in data.unscorable.items() if c in keep},
    )


def _json_counts(counts: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """One JSON object of whole counts per row (``{"posts": 30, ...}``), from count arrays.

    Rounded half to even like ``Series.round``; one string template filled per row.
    """
    names = list(counts)
    template = "{{" + ", ".join(f'"{name}": {{}}' for name in names) + "}}"
    whole = [np.round(np.asarray(counts[name], dtype="float64")).astype("int64") for name in names]
    out = np.empty(n, dtype=object)
    out[:] = [template.format(*row) for row in zip(*(w.tolist() for w in whole), strict=True)]
    return out


# Trait shares quoted in the audience reasons, strongest first when shown.
_AUDIENCE_TRAITS = {
    "aud_no_pic_share": "of sampled followers have no profile picture",
    "aud_zero_posts_share": "of sampled followers have never posted",
    "aud_digit_name_share": "of sampled followers have digits in their user name",
    "aud_empty_bio_share": "of sampled followers have an empty bio",
}


def _audience_reasons(X: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """JSON list per row: the fake share with its interval, mass followers, the top two traits.

    Rows without an audience sample get ``"[]"``. Formatting numbers as text is Python work per
    cell whichever way it is written; done row by row with f-strings it skips pandas' fixed
    ~0.1 ms per string operation (most of a few-creator request's time here) and is still
    faster at 5,000 rows (13 ms against 22 ms column-wise).
    """
    n = len(X)
    share, sampled, mass = (
        v.tolist() for v in _features(X, (_FAKE_SHARE, "aud_n_sampled", "aud_mass_follower_share"))
    )
    low_l = np.asarray(low, dtype="float64").tolist()
    high_l = np.asarray(high, dtype="float64").tolist()
    level = f"{INTERVAL_LEVEL:.0%}"
    # The two strongest traits of each row (unknown ones last), as (share, words) lists.
    strongest: list[tuple[list[float], list[str]]] = []
    traits = [c for c in _AUDIENCE_TRAITS if c in X.columns]
    if traits:
        values = feature_matrix(X, traits)
        order = np.argsort(-np.nan_to_num(values, nan=-1.0), axis=1, kind="stable")
        words = np.asarray([_AUDIENCE_TRAITS[t] for t in traits], dtype=object)
        for rank in range(min(2, len(traits))):
            j = order[:, rank]
            strongest.append((values[np.arange(n), j].tolist(), words[j].tolist()))
    isfinite = math.isfinite
    out = np.empty(n, dtype=object)
    for i in range(n):
        phrases = []
        if isfinite(share[i]):
            interval = (
                f" ({level} interval {low_l[i]:.0%}-{high_l[i]:.0%})" if isfinite(low_l[i]) else ""
            )
            phrases.append(
                f"an estimated {share[i]:.0%} of followers look fake{interval}, from "
                f"{sampled[i]:,.0f} sampled accounts"
            )
        if isfinite(mass[i]):
            phrases.append(
                f"{mass[i]:.0%} of sampled followers follow more than 1,500 accounts (they see "
                "about 10% of posts)"
            )
        for v, w in strongest:
            if isfinite(v[i]):
                phrases.append(f"{v[i]:.0%} {w[i]}")
        out[i] = "[" + ", ".join(f'"{p}"' for p in phrases) + "]"
    return out


def _feature(X: pd.DataFrame, name: str) -> np.ndarray:
    if name not in X.columns:
        return np.full(len(X), np.nan)
    return X[name].to_numpy("float64")


def _features(X: pd.DataFrame, names: tuple[str, ...]) -> list[np.ndarray]:
    """:func:`_feature` of each of ``names``, read from one matrix of the columns present.

    A column taken from the frame by name costs ~10 us; the matrix of the present columns
    (``feature_matrix``: positions kept per column set) costs about that for all of them.
    """
    if not X.columns.is_unique:
        return [_feature(X, name) for name in names]
    present = [name for name in names if name in X.columns]
    matrix = feature_matrix(X, present) if present else None
    out, k = [], 0
    for name in names:
        if name in present:
            out.append(matrix[:, k])
            k += 1
        else:
            out.append(np.full(len(X), np.nan))
    return out

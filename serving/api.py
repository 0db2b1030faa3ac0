"""The HTTP service: the data contract as JSON, scored by one bundle loaded at start-up.

Endpoints
---------
- ``POST /v1/score``: body ``{"creators": [...], "posts": [...], ...}`` (each contract table as a
  list of records; only ``creators`` is required), answer ``{"model_version", "rows"}`` with the
  creator-score output rows in input order (``?extra=true`` adds the optional columns).
- ``POST /v1/fit``: the same tables plus ``brands`` and an optional ``top``; fit output rows.
- ``POST /v1/explain``: the same tables plus ``creator_id`` (and an optional ``top``); answer
  ``{"model_version", "creators": [the score row with every optional column],
  "evidence": [evidence rows]}`` (``Scorer.explain``; dates as YYYY-MM-DD).
- ``GET /v1/explain/{creator_id}``: the same answer for a creator of the dataset folder the
  service was started with (``CREATORSCORE_DATA_DIR``); 404 when it has none. A bare
  ``GET /v1/explain`` would have nothing to explain: the service holds no creators of its own.
- ``GET /v1/model``: model version, library versions and training metrics.
- ``GET /healthz``: liveness. ``/docs`` and ``/openapi.json``: the OpenAPI description.

Errors: 401 without the API key when ``CREATORSCORE_API_KEY`` is set (header ``X-API-Key`` or
``Authorization: Bearer``); 413 for bodies over the byte limit or more creators than allowed;
422 when the request breaks the contract, with every row problem (``?partial=true`` instead
returns 200 with ``status="error"`` rows for the bad creators, like the batch command).

The model (and the optional dataset folder) is fixed when the app is created; no model or file
path is ever read from a request.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from features.dataset import ContractError, load
from serving.predict import Scorer, load_brands

__all__ = ["Settings", "create_app", "ScoreRequest", "FitRequest", "ExplainRequest"]

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Settings:
    """Service limits and the optional API key (secrets come only from the environment)."""

    api_key: str | None = None
    max_creators: int = 1_000
    max_body_bytes: int = 20 * 1024 * 1024
    data_dir: Path | None = None  # dataset folder for GET /v1/explain/{creator_id}

    @classmethod
    def from_env(cls) -> Settings:
        """``CREATORSCORE_API_KEY``, ``CREATORSCORE_MAX_CREATORS``, ``..._MAX_BODY_BYTES``,
        ``CREATORSCORE_DATA_DIR``."""
        env = os.environ
        data_dir = env.get("CREATORSCORE_DATA_DIR") or None
        return cls(
            api_key=env.get("CREATORSCORE_API_KEY") or None,
            max_creators=int(env.get("CREATORSCORE_MAX_CREATORS", cls.max_creators)),
            max_body_bytes=int(env.get("CREATORSCORE_MAX_BODY_BYTES", cls.max_body_bytes)),
            data_dir=Path(data_dir) if data_dir else None,
        )


class ScoreRequest(BaseModel):
    """Contract input tables, each a list of records (SCHEMA.md column names)."""

    model_config = ConfigDict(extra="forbid")
    creators: Records = Field(min_length=1)
    follower_history: Records | None = None
    posts: Records | None = None
    comments: Records | None = None
    audience_sample: Records | None = None


class FitRequest(ScoreRequest):
    """The score tables plus the ``brands`` briefs; ``top`` keeps the best K per brand."""

    brands: Records = Field(min_length=1)
    top: int | None = Field(default=None, ge=1)


class ExplainRequest(ScoreRequest):
    """The score tables plus the ``creator_id`` to explain; ``top`` caps listed accounts."""

    creator_id: str = Field(min_length=1)
    top: int = Field(default=10, ge=1, le=100)


class _TooLarge(Exception):
    pass


class _BodyLimit:
    """ASGI middleware: 413 when the body is (or turns out to be) over ``limit`` bytes."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, scope, receive, send) -> None:
        detail = f"request body over the limit of {self.limit:,} bytes"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._reject(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, receive, send)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN and NA become null."""
    obj = frame.astype(object)
    return obj.where(frame.notna(), None).to_dict(orient="records")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def create_app(scorer: Scorer, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app serving ``scorer`` with ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="creatorscore",
        summary="Bought-follower risk and brand fit for social-media creators, with reasons.",
        version=scorer.model_version,
    )

    def check_key(
        x_api_key: str | None = Header(default=None),
        authorization: str | None = Header(default=None),
    ) -> None:
        if settings.api_key is None:
            return
        given = x_api_key
        if given is None and authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if given is None or not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            raise HTTPException(
                401, "missing or wrong API key", headers={"WWW-Authenticate": "Bearer"}
            )

    def tables(body: ScoreRequest) -> dict[str, pd.DataFrame]:
        if len(body.creators) > settings.max_creators:
            raise HTTPException(
                413,
                f"{len(body.creators):,} creators in one request; the limit is "
                f"{settings.max_creators:,} (use the batch command for more)",
            )
        out = {}
        for name in ("creators", "follower_history", "posts", "comments", "audience_sample"):
            rows = getattr(body, name)
            if rows is not None:
                out[name] = pd.DataFrame.from_records(rows) if rows else _empty(name)
        return out

    def loaded(body: ScoreRequest, partial: bool):
        try:
            data = load(tables(body))
        except ContractError as exc:
            raise HTTPException(422, str(exc)) from exc
        if not partial and len(data.errors):
            detail = {
                "message": f"{len(data.errors)} row(s) break the data contract",
                "errors": _records(data.errors),
            }
            raise HTTPException(422, detail)
        return data

    partial_q = Query(False, description="Score the good creators, return error rows for the bad.")
    extra_q = Query(
        False,
        description="Add the optional columns: fraud_confidence, the audience_fake_share interval, "
        "low_quality_audience with its reasons, and evidence counts.",
    )

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the model is loaded."""
        return {"status": "ok", "model_version": scorer.model_version}

    @app.get("/v1/model", tags=["service"], dependencies=[Depends(check_key)])
    def model_info() -> JSONResponse:
        """The loaded model: version, content hash, library versions and training metrics."""
        b = scorer.bundle
        metrics = {
            name: _clean(dict(m.metrics_))
            for name, m in (
                ("fraud", b.fraud_model),
                ("fit", b.fit_model),
                ("account", b.account_model),
            )
            if m is not None
        }
        return JSONResponse(
            {
                "model_version": scorer.model_version,
                "bundle_hash": b.version,
                "n_features": len(b.feature_names),
                "versions": b.versions,
                "metrics": metrics,
                "limits": {
                    "max_creators": settings.max_creators,
                    "max_body_bytes": settings.max_body_bytes,
                },
            }
        )

    @app.post("/v1/score", tags=["scoring"], dependencies=[Depends(check_key)])
    def score(body: ScoreRequest, partial: bool = partial_q, extra: bool = extra_q) -> JSONResponse:
        """Fraud risk, band, engagement, tier and reasons for each creator, in input order."""
        frame = scorer.score(loaded(body, partial), extra=extra)
        return JSONResponse({"model_version": scorer.model_version, "rows": _records(frame)})

    @app.post("/v1/fit", tags=["scoring"], dependencies=[Depends(check_key)])
    def fit(body: FitRequest, partial: bool = partial_q) -> JSONResponse:
        """Fit score and rank of each (brand, creator) pair, or the best ``top`` per brand."""
        data = loaded(body, partial)
        brands = pd.DataFrame.from_records(body.brands)
        try:
            _, bad = load_brands(brands)
        except ContractError as exc:
            raise HTTPException(422, str(exc)) from exc
        if not partial and len(bad):
            raise HTTPException(
                422,
                {
                    "message": f"{len(bad)} brand row(s) break the data contract",
                    "errors": _records(bad),
                },
            )
        frame = scorer.fit(data, brands, top=body.top)
        return JSONResponse({"model_version": scorer.model_version, "rows": _records(frame)})

    def explained(data, creator_id: str, top: int) -> JSONResponse:
        from serving.report import explanation

        if creator_id not in data.creator_ids:
            raise HTTPException(404, f"creator {creator_id!r} is not in the data")
        scores, evidence = scorer.explain(data, [creator_id], top=top)
        body = {"model_version": scorer.model_version, **explanation(scores, evidence)}
        return JSONResponse(_clean_json(body))

    @app.post("/v1/explain", tags=["scoring"], dependencies=[Depends(check_key)])
    def explain(body: ExplainRequest, partial: bool = partial_q) -> JSONResponse:
        """The evidence behind one creator's scores: its score row with every optional column
        (confidence, fake-share interval, low-quality audience, evidence counts) and the
        evidence rows (follower jumps and drops, suspicious posts, fake-looking followers,
        repeated commenters)."""
        return explained(loaded(body, partial), body.creator_id, body.top)

    @app.get("/v1/explain/{creator_id}", tags=["scoring"], dependencies=[Depends(check_key)])
    def explain_stored(creator_id: str, top: int = Query(10, ge=1, le=100)) -> JSONResponse:
        """``POST /v1/explain`` for a creator of the service's own dataset folder
        (``CREATORSCORE_DATA_DIR``)."""
        from serving.report import read_creator

        if settings.data_dir is None:
            raise HTTPException(
                404,
                "this service was started without a dataset (CREATORSCORE_DATA_DIR); "
                "POST /v1/explain with the creator's tables instead",
            )
        try:
            tables = read_creator(settings.data_dir, creator_id)
        except KeyError as exc:
            raise HTTPException(404, f"creator {creator_id!r} is not in the dataset") from exc
        try:
            data = load(tables)
        except ContractError as exc:
            raise HTTPException(422, str(exc)) from exc
        return explained(data, creator_id, top)

    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    return app


def _clean_json(value: Any) -> Any:
    """NaN and infinities (not JSON) become null, in nested lists and dicts."""
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return _clean(value)


def _empty(table: str) -> pd.DataFrame:
    """A table given as an empty list: the contract's columns, no rows."""
    from features.schema import TABLES

    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in TABLES[table]})

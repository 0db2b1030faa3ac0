"""The vetting report: one self-contained HTML page about one creator (and one brand brief).

It shows the scores with their bands, confidence and reasons, the evidence rows behind them
(``Scorer.explain``: dated follower jumps and drops, posts whose likes or comments look bought,
the most fake-looking followers, repeated commenters), the follower-growth curve with those
jumps and drops marked, the engagement rate against the expected curve for the creator's size,
likes and comments per post, audience quality as its own question (a low-quality audience is not
proof of buying), the topic profile and, with a brand, the fit and its reasons.

:func:`explanation` and :func:`write_explanation` give the same scores and evidence as JSON or
CSV for vetting workflows.

Safety: every piece of user text goes through :func:`html.escape`; charts are matplotlib SVG
embedded as ``data:`` images (an image cannot run scripts), chart labels never contain user
text, and a Content-Security-Policy allowing no scripts at all is set as a second line of defence.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from features.dataset import ContractError, load
from serving.batch import CHILD_TABLES, _ids, _stream, _table_file

__all__ = [
    "explanation",
    "read_creator",
    "render_report",
    "write_explanation",
    "write_report",
]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_AUDIENCE = {
    "aud_fake_share": "estimated fake followers",
    "aud_mass_follower_share": "follow more than 1,500 accounts",
    "aud_no_pic_share": "no profile picture",
    "aud_zero_posts_share": "never posted",
    "aud_digit_name_share": "digits in user name",
    "aud_empty_bio_share": "empty bio",
    "aud_private_share": "private accounts",
}


def read_creator(folder: str | Path, creator_id: str) -> dict[str, pd.DataFrame]:
    """The raw rows of one creator from every table of a dataset folder (one streaming pass)."""
    folder = Path(folder)
    out = {}
    for table in ("creators", *CHILD_TABLES):
        path = _table_file(folder, table)
        if path is None:
            continue
        parts = [f[_ids(f["creator_id"]) == creator_id] for f in _stream(path)]
        out[table] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if "creators" not in out or out["creators"].empty:
        raise KeyError(f"creator {creator_id!r} is not in {folder}")
    return out


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/svg+xml;base64,{data}">'


def _figure(width: float = 7.0, height: float = 2.8):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "path"  # text as shapes: nothing in the SVG to interpret
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _growth_chart(history: pd.DataFrame | None, jump_day, evidence: pd.DataFrame) -> str:
    if history is None or history.empty:
        return "<p class='muted'>No follower history given.</p>"
    h = history.sort_values("date")
    fig, ax = _figure()
    ax.plot(h["date"], h["followers"], color="#3465a4", lw=1.5, label="followers")
    # The same jumps and drops as the evidence table below.
    level = h.set_index("date")["followers"]
    jumps = evidence[evidence["kind"] == "follower_jump"]
    if len(jumps):
        y = level.reindex(jumps["end_date"]).to_numpy("float64")
        ax.scatter(jumps["end_date"], y, color="#cc0000", zorder=3, s=22, label="flagged jump")
    drops = evidence[evidence["kind"] == "follower_drop"]
    for i, (start, end) in enumerate(zip(drops["date"], drops["end_date"], strict=True)):
        ax.axvspan(start, end, color="#f57900", alpha=0.15, label="drop" if i == 0 else None)
    if jump_day is not None and not pd.isna(jump_day):
        ax.axvline(jump_day, color="#cc0000", ls="--", lw=1, label="largest jump")
    ax.set_ylabel("followers")
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    return _svg(fig)


def _engagement_chart(posts, followers, platform, curve, er_median) -> str:
    fig, ax = _figure()
    x = np.logspace(3, 7, 120)
    ax.plot(x, curve.expected(x, [platform] * len(x)), color="#555", label="expected")
    if posts is not None and len(posts) and followers and followers > 0:
        rate = (posts["likes"] + posts["comments"]) / followers
        jitter = followers * np.exp(np.random.default_rng(0).normal(0, 0.03, len(rate)))
        ax.scatter(jitter, rate, s=8, alpha=0.4, color="#3465a4", label="posts")
    if er_median is not None and np.isfinite(er_median) and followers:
        ax.scatter([followers], [er_median], s=80, color="#cc0000", zorder=3, label="median")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("followers")
    ax.set_ylabel("engagement rate")
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig)


def _posts_chart(posts: pd.DataFrame | None) -> str:
    if posts is None or posts.empty:
        return "<p class='muted'>No posts given.</p>"
    p = posts.sort_values("posted_at")
    fig, ax = _figure()
    ax.bar(p["posted_at"], p["likes"], width=1.2, color="#3465a4", label="likes")
    ax.set_ylabel("likes per post")
    ax2 = ax.twinx()
    ax2.plot(p["posted_at"], p["comments"], "o-", ms=3, color="#f57900", label="comments")
    ax2.set_ylabel("comments per post")
    fig.legend(frameon=False, fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    return _svg(fig)


def _bars(labels: list[str], values: np.ndarray, xlabel: str, share: bool) -> str:
    fig, ax = _figure(height=0.35 * len(labels) + 0.8)
    ok = np.isfinite(values)
    ax.barh(np.arange(len(labels)), np.where(ok, values, 0), color="#3465a4")
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if share:
        ax.set_xlim(0, 1)
    return _svg(fig)


def _reason_list(reasons: str) -> str:
    items = json.loads(reasons) if reasons else []
    if not items:
        return "<p class='muted'>No reasons computed.</p>"
    return "<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in items) + "</ul>"


def _fmt(v, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "unknown"
    return f"{v:.1%}" if pct else f"{v:,.3f}"


# Evidence kinds as report sections: title and the columns shown (header, column, format).
_EVIDENCE_SECTIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Follower jumps and drops", ("follower_jump", "follower_drop"), "dates"),
    ("Posts whose likes or comments look bought", ("bought_likes_post", "pod_post"), "posts"),
    ("Most fake-looking sampled followers", ("fake_follower",), "followers"),
    ("Repeated commenters", ("repeated_commenter",), "commenters"),
)
_EVIDENCE_ID = {
    "dates": ("date", "day"),
    "posts": ("post_id", "post"),
    "followers": ("follower_id", "follower"),
    "commenters": ("commenter_id", "commenter"),
}


def _evidence_html(evidence: pd.DataFrame) -> str:
    """One small table per evidence group; every cell escaped."""
    e = html.escape
    parts = []
    for title, kinds, group in _EVIDENCE_SECTIONS:
        rows = evidence[evidence["kind"].isin(kinds)]
        if rows.empty:
            parts.append(f"<h3>{e(title)}</h3><p class='muted'>None found.</p>")
            continue
        column, header = _EVIDENCE_ID[group]
        ids = (
            rows[column].dt.strftime("%Y-%m-%d")
            if column == "date"
            else rows[column].astype(object).where(rows[column].notna(), "")
        )
        body = "".join(
            f"<tr><td>{e(str(k).replace('_', ' '))}</td><td>{e(str(i))}</td>"
            f"<td>{e(str(d))}</td></tr>"
            for k, i, d in zip(rows["kind"], ids, rows["detail"], strict=True)
        )
        parts.append(
            f"<h3>{e(title)}</h3><table><tr><th>kind</th><th>{header}</th><th>evidence</th>"
            f"</tr>{body}</table>"
        )
    return "\n".join(parts)


def _counts_text(evidence_json: str) -> str:
    counts = json.loads(evidence_json) if isinstance(evidence_json, str) else {}
    words = {
        "history_days": "days of follower history",
        "history_points": "history points",
        "posts": "posts",
        "comments": "sampled comments",
        "audience_sampled": "sampled followers",
    }
    return ", ".join(f"{counts[k]:,} {w}" for k, w in words.items() if k in counts)


def explanation(scores: pd.DataFrame, evidence: pd.DataFrame) -> dict:
    """Scores and evidence rows (``Scorer.explain``) as one JSON-ready dict.

    ``{"creators": [score rows, optional columns included, with "evidence" parsed into an
    object], "evidence": [evidence rows, dates as YYYY-MM-DD]}``; NaN becomes null.
    """
    rows = _json_records(scores)
    for row in rows:
        for key in ("evidence", "reasons", "audience_reasons"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return {"creators": rows, "evidence": _json_records(evidence)}


def _json_records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    obj = out.astype(object)
    return obj.where(out.notna(), None).to_dict(orient="records")


def write_explanation(scores: pd.DataFrame, evidence: pd.DataFrame, out: str | Path) -> Path:
    """Write an explanation: ``.json`` (scores and evidence), ``.csv`` or ``.jsonl`` (evidence).

    CSV and JSON Lines hold one evidence row per line, for spreadsheets and vetting tools; the
    scores themselves come from ``creatorscore score``.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".json":
        out.write_text(
            json.dumps(explanation(scores, evidence), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    elif suffix == ".csv":
        evidence.to_csv(out, index=False, date_format="%Y-%m-%d")
    elif suffix == ".jsonl":
        lines = [json.dumps(r, ensure_ascii=False) for r in _json_records(evidence)]
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    else:
        raise ValueError(f"{out}: the output must end in .json, .csv or .jsonl")
    return out


def render_report(
    tables: dict[str, pd.DataFrame],
    creator_id: str,
    scorer,
    brands: pd.DataFrame | None = None,
    brand: str | None = None,
) -> str:
    """The report page for one creator's raw tables (and optionally one brand) as HTML text."""
    from features import resolve_as_of
    from features.engagement import EngagementCurve
    from features.growth import largest_jump

    data = load(tables)
    e = html.escape
    parts: list[str] = []
    if creator_id in data.unscorable or data.creators.empty:
        score = scorer.score_features(data, pd.DataFrame(), reasons="none").iloc[0]
        parts.append(
            f"<h2>Cannot score this creator</h2><p class='err'>{e(str(score['error']))}</p>"
        )
        return _page(creator_id, "", "\n".join(parts))
    data, X = scorer.features(data)
    scores, evidence = scorer.explain_features(data, X, top_k=6)
    score = scores.iloc[0]
    row = X.iloc[0]
    c = data.creators.iloc[0]
    followers = float(c["followers"])
    platform = c["platform"] if isinstance(c["platform"], str) else "instagram"
    subtitle = " · ".join(
        e(str(v))
        for v in (c.get("handle"), platform, score["tier"], f"{followers:,.0f} followers")
        if isinstance(v, str) and v
    )
    bio = c.get("bio")
    band = str(score["risk_band"])
    audience = score["low_quality_audience"]
    audience = str(audience) if isinstance(audience, str) else "unknown"
    interval = (
        f"90% interval {_fmt(score['audience_fake_share_low'], True)} to "
        f"{_fmt(score['audience_fake_share_high'], True)}"
        if np.isfinite(score["audience_fake_share_low"])
        else "estimated from the audience sample"
    )
    parts.append(
        f"""<section class="cards">
<div class="card band-{e(band)}"><h3>Fraud risk (bought followers or engagement)</h3>
<p class="big">{_fmt(score["fraud_risk"], True)}</p><p>{e(band)} risk,
{e(str(score["fraud_confidence"]))} confidence</p></div>
<div class="card band-{e(audience)}"><h3>Low-quality audience</h3>
<p class="big">{e(audience)}</p><p>a separate question from buying</p></div>
<div class="card"><h3>Fake followers</h3><p class="big">{_fmt(score["audience_fake_share"], True)}
</p><p>{e(interval)}</p></div>
<div class="card"><h3>Engagement rate</h3><p class="big">{_fmt(score["engagement_rate"], True)}</p>
<p>expected {_fmt(score["expected_engagement_rate"], True)}</p></div>
</section>
<p class="bio"><b>Bio:</b> {e(bio) if isinstance(bio, str) else "<i>none</i>"}</p>
<p class="muted">Evidence: {e(_counts_text(score["evidence"]))}.</p>
<h2>Why this risk</h2>{_reason_list(score["reasons"])}
<h2>Evidence</h2>{_evidence_html(evidence)}"""
    )
    days = resolve_as_of(data)
    jump = largest_jump(data.follower_history, [creator_id], days)
    parts.append(
        "<h2>Follower growth</h2>"
        + _growth_chart(data.follower_history, jump["date"].iloc[0], evidence)
    )
    curve = scorer.bundle.engagement_curve or EngagementCurve.prior()
    parts.append(
        "<h2>Engagement rate against the expected rate for this size</h2>"
        + _engagement_chart(data.posts, followers, platform, curve, row.get("eng_er_median"))
    )
    parts.append("<h2>Likes and comments per post</h2>" + _posts_chart(data.posts))
    aud = [k for k in _AUDIENCE if k in X.columns]
    note = ""
    if audience in ("medium", "high") and band == "low":
        note = (
            "<p>Many followers look low-quality, but nothing in the growth curve or the "
            "engagement says they were bought: bots follow everyone.</p>"
        )
    if aud and np.isfinite(row[aud].to_numpy("float64")).any():
        parts.append(
            f"<h2>Audience quality: {e(audience)}</h2>{note}"
            + _reason_list(score["audience_reasons"])
            + _bars([_AUDIENCE[k] for k in aud], row[aud].to_numpy("float64"), "share", True)
        )
    else:
        parts.append("<h2>Audience quality</h2><p class='muted'>No audience sample given.</p>")
    topics = sorted(k for k in X.columns if k.startswith("topic_") and k[6:].isdigit())
    text_model = scorer.bundle.text_model
    if topics and np.isfinite(row[topics].to_numpy("float64")).any():
        labels = list(getattr(text_model, "topic_labels_", topics))[: len(topics)]
        parts.append(
            "<h2>Topic profile</h2>"
            + _bars(labels, row[topics].to_numpy("float64"), "share of content", False)
        )
    if brand is not None:
        if brands is None:
            raise ValueError("--brand needs a brands table (in the dataset or --brands)")
        chosen = brands[brands["brand_id"].astype(str) == brand]
        if chosen.empty:
            raise KeyError(f"brand {brand!r} is not in the brands table")
        fit = scorer.fit(data, chosen.reset_index(drop=True), top_k=6).iloc[0]
        name = chosen["name"].iloc[0] if "name" in chosen else None
        title = e(str(name)) if isinstance(name, str) else e(brand)
        if fit["status"] == "ok":
            parts.append(
                f"<h2>Fit for {title}</h2><p class='big'>{_fmt(fit['fit_score'], True)}</p>"
                f"<p>estimated chance of a good or excellent fit</p>{_reason_list(fit['reasons'])}"
            )
        else:
            parts.append(f"<h2>Fit for {title}</h2><p class='err'>{e(str(fit['error']))}</p>")
    parts.append(f"<p class='muted'>Model {e(scorer.model_version)}</p>")
    return _page(creator_id, subtitle, "\n".join(parts))


def _page(creator_id: str, subtitle: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vetting report: {html.escape(creator_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto; color: #222;
  background: #fff; padding: 0 1em; }}
h1 {{ margin-bottom: 0; }} .sub {{ color: #555; margin-top: .2em; }}
.cards {{ display: flex; gap: 1em; flex-wrap: wrap; }}
.card {{ border: 1px solid #ccc; border-radius: 8px; padding: .5em 1em; min-width: 12em; }}
.card h3 {{ margin: .2em 0; font-size: 1em; color: #555; }}
.big {{ font-size: 1.8em; font-weight: bold; margin: .2em 0; }}
.band-high {{ border-color: #cc0000; background: #fde8e8; }}
.band-medium {{ border-color: #f57900; background: #fdf1e3; }}
.band-low {{ border-color: #4e9a06; background: #eaf6e0; }}
.muted {{ color: #777; }} .err {{ color: #a00; }} img {{ max-width: 100%; }}
table {{ border-collapse: collapse; font-size: .9em; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .2em .5em; text-align: left; }}
</style></head><body>
<h1>Vetting report: {html.escape(creator_id)}</h1><p class="sub">{subtitle}</p>
{body}
</body></html>
"""


def write_report(
    data: str | Path,
    creator_id: str,
    out: str | Path,
    scorer,
    *,
    brand: str | None = None,
    brands: str | Path | None = None,
) -> Path:
    """Read one creator from a dataset folder and write its HTML report to ``out``."""
    from features.dataset import read_table

    tables = read_creator(data, creator_id)
    brand_table = None
    if brand is not None:
        path = Path(brands) if brands is not None else _table_file(Path(data), "brands")
        if path is None:
            raise ContractError(f"--brand {brand}: no brands table in {data}; give --brands")
        brand_table = read_table(path)
    page = render_report(tables, creator_id, scorer, brand_table, brand)
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out

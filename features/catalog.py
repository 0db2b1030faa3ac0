"""Feature catalog entries: every feature a builder emits is described once, next to its code.

Each builder module lists its features in a module-level tuple ``FEATURES`` of :class:`Feature`;
``docs/features.md`` is generated from those tuples (``python -m features``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Feature"]


@dataclass(frozen=True)
class Feature:
    """One feature column: its name, what it means, its unit and the contract table it reads."""

    name: str
    meaning: str
    unit: str
    source: str


def catalog_markdown() -> str:
    """The feature catalog as Markdown, generated from every builder module's ``FEATURES``."""
    from features import feature_modules

    lines = [
        "# Feature catalog",
        "",
        "Generated from the code by `python -m features > docs/features.md`; a test keeps",
        "it in step. Every feature is float64, one row per creator; empty (NaN) means unknown,",
        "never zero. Topic columns follow the text model's `n_topics` (24 by default).",
        "",
    ]
    for module in feature_modules():
        family = module.__name__.rsplit(".", 1)[-1]
        summary = (module.__doc__ or "").strip().splitlines()[0]
        lines += [f"## {family}", "", summary, "", "| name | meaning | unit | source |"]
        lines.append("|---|---|---|---|")
        for f in module.FEATURES:
            meaning = f.meaning.replace("|", "\\|")
            lines.append(f"| `{f.name}` | {meaning} | {f.unit} | {f.source} |")
        lines.append("")
    return "\n".join(lines)

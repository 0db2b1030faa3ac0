"""Feature catalog entries: every feature a builder emits is described once, next to its code.

Each builder module lists its features in a module-level tuple ``FEATURES`` of :class:`Feature`;
``docs/features.md`` is generated from those tuples (``python -m features.catalog``).
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

"""The bundle: everything needed to score, saved and loaded in one place.

Layout of a bundle folder (every file plain text, JSON or LightGBM text; nothing pickled)::

    manifest.json           {"format": 1, "files": {relative path: sha256}} for every other file
    bundle.json             feature schema, library versions, which components are present
    fraud/                  FraudModel files (booster.txt, calibrator.json, meta.json)
    account/                AccountModel files (optional)
    fit/                    FitModel files (optional)
    text/                   the topic model's own files (optional)
    engagement_curve.json   EngagementCurve.to_dict() (optional)

:meth:`Bundle.load` checks the whole folder against the manifest *before parsing any file*: a
file whose SHA-256 differs, a listed file that is missing, or a file on disk that the manifest
does not list are each refused with an error naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import sklearn

from models._artifacts import ArtifactError, dumps_json, read_verified, sha256_bytes, write_files
from models.account import AccountModel
from models.fit import FitModel
from models.fraud import FraudModel

__all__ = ["Bundle", "library_versions"]

MANIFEST = "manifest.json"
_FORMAT = 1


def library_versions() -> dict[str, str]:
    """Versions of creatorscore and the libraries whose formats the bundle depends on."""
    try:
        own = metadata.version("creatorscore")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {
        "creatorscore": own,
        "lightgbm": lightgbm.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def _sub(checksums: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) + 1 :]: v for k, v in checksums.items() if k.startswith(prefix + "/")}


@dataclass
class Bundle:
    """Every fitted component a scorer needs, with the feature schema and library versions.

    Attributes
    ----------
    fraud_model : the calibrated fraud classifier.
    feature_schema : ordered ``(name, dtype)`` of the feature frame the models were trained on.
    account_model, fit_model : optional follower-account and brand-fit models.
    text_model : optional ``features.topics.TopicModel`` (saved through its own save/load).
    engagement_curve : optional ``features.engagement.EngagementCurve`` (to_dict/from_dict).
    versions : library versions at training time (:func:`library_versions`).
    checksums : relative path -> sha256 of every file, filled by :meth:`save` and :meth:`load`.
    """

    fraud_model: FraudModel
    feature_schema: list[tuple[str, str]]
    account_model: AccountModel | None = None
    fit_model: FitModel | None = None
    text_model: Any = None
    engagement_curve: Any = None
    versions: dict[str, str] = field(default_factory=library_versions)
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Content hash of the saved bundle: the first 16 hex of the SHA-256 of its manifest."""
        if not self.checksums:
            raise RuntimeError("the bundle has no checksums yet: save or load it first")
        return sha256_bytes(dumps_json(dict(sorted(self.checksums.items()))))[:16]

    @property
    def feature_names(self) -> list[str]:
        """Feature column names, in schema order."""
        return [name for name, _ in self.feature_schema]

    def save(self, folder: str | Path) -> dict[str, str]:
        """Write every component and ``manifest.json``; return relative path -> sha256."""
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            raise FileExistsError(f"{root}: refusing to write a bundle into a non-empty folder")
        sums: dict[str, str] = {}
        parts = {"fraud": self.fraud_model, "account": self.account_model, "fit": self.fit_model}
        for prefix, model in parts.items():
            if model is not None:
                sums |= {f"{prefix}/{k}": v for k, v in model.save(root / prefix).items()}
        if self.text_model is not None:
            sums |= {f"text/{k}": v for k, v in self.text_model.save(root / "text").items()}
        if self.engagement_curve is not None:
            curve = dumps_json(self.engagement_curve.to_dict())
            sums |= write_files(root, {"engagement_curve.json": curve})
        info = {
            "format": _FORMAT,
            "feature_schema": [[n, d] for n, d in self.feature_schema],
            "versions": self.versions,
            "components": sorted(
                [k for k, m in parts.items() if m is not None]
                + (["text"] if self.text_model is not None else [])
                + (["engagement_curve"] if self.engagement_curve is not None else [])
            ),
        }
        sums |= write_files(root, {"bundle.json": dumps_json(info)})
        write_files(root, {MANIFEST: dumps_json({"format": _FORMAT, "files": sums})})
        self.checksums = dict(sorted(sums.items()))
        return self.checksums

    @classmethod
    def load(cls, folder: str | Path) -> Bundle:
        """Verify every file against ``manifest.json``, then load the components.

        Raises
        ------
        ArtifactError
            Naming the file: checksum mismatch, listed but missing, or present but unlisted.
        """
        root = Path(folder)
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise ArtifactError(f"{manifest_path}: no manifest; not a bundle folder")
        manifest = json.loads(manifest_path.read_bytes())
        sums = dict(manifest.get("files", {}))
        on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        unlisted = sorted(on_disk - set(sums) - {MANIFEST})
        if unlisted:
            raise ArtifactError(f"{root / unlisted[0]}: file is not listed in {MANIFEST}; refusing")
        raw = read_verified(root, sums, sorted(sums))  # every file, before any parsing
        info = json.loads(raw["bundle.json"])
        if info.get("format") != _FORMAT:
            raise ArtifactError(f"{root}: bundle format {info.get('format')!r} is not {_FORMAT}")
        parts = set(info["components"])
        text_model = curve = None
        if "text" in parts:
            from features.topics import TopicModel

            text_model = TopicModel.load(root / "text", _sub(sums, "text"))
        if "engagement_curve" in parts:
            from features.engagement import EngagementCurve

            curve = EngagementCurve.from_dict(json.loads(raw["engagement_curve.json"]))
        return cls(
            fraud_model=FraudModel.load(root / "fraud", _sub(sums, "fraud")),
            feature_schema=[(str(n), str(d)) for n, d in info["feature_schema"]],
            account_model=(
                AccountModel.load(root / "account", _sub(sums, "account"))
                if "account" in parts
                else None
            ),
            fit_model=FitModel.load(root / "fit", _sub(sums, "fit")) if "fit" in parts else None,
            text_model=text_model,
            engagement_curve=curve,
            versions={str(k): str(v) for k, v in info["versions"].items()},
            checksums=dict(sorted(sums.items())),
        )

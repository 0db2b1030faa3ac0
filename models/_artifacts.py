"""Write model files with their SHA-256 and read them back only after the checksum matches.

Every model in this package saves plain files (LightGBM text, JSON, ``.npy``) through
:func:`write_files`, which returns ``{file name: sha256}``; loading goes through
:func:`read_verified`, which hashes the bytes it read and parses nothing unless every digest
matches. The bytes that were hashed are the bytes that get parsed, so a file swapped between the
check and the parse cannot slip through.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["ArtifactError", "sha256_bytes", "write_files", "read_verified", "dumps_json"]


class ArtifactError(ValueError):
    """A model file is missing, unlisted or does not match its recorded SHA-256."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def dumps_json(obj: object) -> bytes:
    """Serialise ``obj`` to UTF-8 JSON bytes, key-sorted so equal objects give equal bytes.

    Python writes floats with ``repr``, which reads back to the identical double.
    """
    return (json.dumps(obj, sort_keys=True, indent=1, allow_nan=False) + "\n").encode("utf-8")


def write_files(folder: str | Path, files: Mapping[str, bytes]) -> dict[str, str]:
    """Write ``files`` (relative name -> bytes) under ``folder``; return name -> sha256."""
    root = Path(folder)
    out: dict[str, str] = {}
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[name] = sha256_bytes(data)
    return out


def read_verified(
    folder: str | Path, checksums: Mapping[str, str], names: Iterable[str]
) -> dict[str, bytes]:
    """Read ``names`` from ``folder``, verifying each against ``checksums`` before returning.

    Raises
    ------
    ArtifactError
        Naming the file when it has no recorded checksum, is missing, or its SHA-256 differs.
    """
    root = Path(folder)
    out: dict[str, bytes] = {}
    for name in names:
        if name not in checksums:
            raise ArtifactError(f"{root / name}: no SHA-256 recorded for this file; refusing it")
        path = root / name
        if not path.is_file():
            raise ArtifactError(f"{path}: file is missing")
        data = path.read_bytes()
        digest = sha256_bytes(data)
        if digest != checksums[name]:
            raise ArtifactError(
                f"{path}: SHA-256 mismatch (expected {checksums[name]}, found {digest}); "
                "the file was modified or corrupted, refusing to load it"
            )
        out[name] = data
    return out

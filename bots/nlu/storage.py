"""The on-disk model format: a zip of one JSON manifest plus .npy arrays, never pickle.

Layout (version 1):
    manifest.json            {"format": "kefu-intent-classifier", "version": 1, ...}
    arrays/<name>.npy        numpy arrays written with allow_pickle=False
Loading checks the format name and version, reads arrays with allow_pickle=False, and
rejects object arrays, so a file can carry numbers and strings but never code.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bots.nlu.errors import ModelFormatError

FORMAT_NAME = "kefu-intent-classifier"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ARRAYS = "arrays/"


def write_archive(path: str | Path, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a model behind."""
    target = Path(path)
    body = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **manifest, "arrays": sorted(arrays)}
    fd, tmp = tempfile.mkstemp(prefix=".kefu-nlu-", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_MANIFEST, json.dumps(body, ensure_ascii=False, indent=1))
            for name, array in arrays.items():
                if array.dtype.hasobject:
                    raise ValueError(f"array {name!r} holds Python objects; only plain numbers and strings are stored")
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                zf.writestr(f"{_ARRAYS}{name}.npy", buffer.getvalue())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_archive(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Manifest and arrays of a Kefu model file; ModelFormatError for anything else."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFormatError(f"{path}: not a Kefu intent model ({exc})") from exc
    with zf:
        try:
            manifest = json.loads(zf.read(_MANIFEST))
        except (KeyError, ValueError) as exc:
            raise ModelFormatError(f"{path}: missing or unreadable {_MANIFEST}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"{path}: not a Kefu intent model")
        if manifest.get("version") != FORMAT_VERSION:
            raise ModelFormatError(
                f"{path}: model format version {manifest.get('version')!r}, this Kefu reads version {FORMAT_VERSION}"
            )
        arrays: dict[str, np.ndarray] = {}
        for name in manifest.get("arrays", []):
            try:
                with zf.open(f"{_ARRAYS}{name}.npy") as fh:
                    arrays[name] = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            except (KeyError, ValueError) as exc:
                raise ModelFormatError(f"{path}: array {name!r} missing or not a plain numpy array") from exc
    return manifest, arrays

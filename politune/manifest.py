"""sha256 manifests for artifact folders (adapters): written after saving, checked before loading.

A truncated or bit-flipped file is caught with its path and both hashes; a pickle file planted where
safetensors are expected is refused (never unpickled).
"""

from __future__ import annotations

import json
from pathlib import Path

from politune.hashing import sha256_file

MANIFEST = "manifest.sha256.json"
FORBIDDEN_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


class ManifestError(RuntimeError):
    pass


def write_manifest(folder: str | Path) -> dict[str, str]:
    folder = Path(folder)
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    (folder / MANIFEST).write_text(json.dumps(files, indent=2, sort_keys=True) + "\n")
    return files


def verify_manifest(folder: str | Path) -> None:
    folder = Path(folder)
    mpath = folder / MANIFEST
    if not mpath.exists():
        raise ManifestError(
            f"{folder}: no manifest ({MANIFEST}); refusing to load an adapter of unknown origin"
        )
    for p in folder.rglob("*"):
        if p.is_file() and p.suffix in FORBIDDEN_SUFFIXES:
            raise ManifestError(f"{p}: pickle-format file refused; only safetensors are loaded")
    expected = json.loads(mpath.read_text())
    for rel, digest in expected.items():
        p = folder / rel
        if not p.exists():
            raise ManifestError(f"{p}: listed in {MANIFEST} but missing")
        actual = sha256_file(p)
        if actual != digest:
            raise ManifestError(
                f"{p}: sha256 mismatch: manifest {digest}, file {actual} (truncated or corrupted)"
            )

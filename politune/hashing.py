"""The one place for sha256 digests (hex): of text, of a JSON-able value, of a file.

These digests name cached work (row-cache keys, the trainer's checkpoint fingerprint) and check artifacts
(adapter manifests): changing how any of them is computed invalidates every cache made before, so
tests/unit/test_hashing.py pins their exact values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def sha256_text(text: str) -> str:
    """sha256 of `text` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(value: Any) -> str:
    """sha256 of `value` as JSON with sorted keys (so dict order does not matter); values JSON cannot encode
    (paths, dates) are hashed as their str()."""
    return sha256_text(json.dumps(value, sort_keys=True, default=str))


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

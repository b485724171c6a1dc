"""Parameter profiles: complete params files in profiles/ (cpu = the embedded default, paper = the paper's GPU
recipe). `politune profile paper` validates one and copies it to params.yaml; `politune profile` says which
profile params.yaml matches and which keys differ.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from politune.params import load_params

PROFILES = "profiles"


def available(root: str | Path = ".") -> dict[str, Path]:
    return {p.stem: p for p in sorted((Path(root) / PROFILES).glob("*.yaml"))}


def diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two parsed params mappings."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            out += diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def current(root: str | Path = ".", params: str = "params.yaml") -> tuple[str | None, dict[str, list[str]]]:
    """(name of the profile params.yaml equals or None, {profile: differing keys})."""
    mine = _read(Path(root) / params)
    diffs = {name: diff_keys(mine, _read(path)) for name, path in available(root).items()}
    same = [n for n, d in diffs.items() if not d]
    return (same[0] if same else None), diffs


def apply(name: str, root: str | Path = ".", params: str = "params.yaml", force: bool = False) -> Path:
    """Validate profiles/<name>.yaml and copy it to params.yaml; refuse to overwrite edits no profile holds."""
    root = Path(root)
    profiles = available(root)
    if name not in profiles:
        raise ValueError(f"no profile {name!r} (have: {', '.join(profiles) or 'none'} in {root / PROFILES})")
    load_params(profiles[name], root)  # every problem at once, before anything is overwritten
    target = root / params
    if target.exists() and not force:
        match, diffs = current(root, params)
        if match is None:
            nearest = min(diffs, key=lambda n: len(diffs[n]))
            raise ValueError(
                f"{target} has edits no profile holds (vs {nearest}: {', '.join(diffs[nearest])}); "
                f"save them as {PROFILES}/<name>.yaml, or pass --force to overwrite"
            )
    shutil.copyfile(profiles[name], target)
    return target

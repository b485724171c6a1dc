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

# The default shrunk for a quick whole-pipeline run (the end-to-end tests, scripts/gpu_check.py): dotted key ->
# value, the rest is the shipped default. The sample fractions are 0.4 of the default's (~430 passages to
# annotate, 7 annotation chunks); ~40 training pairs: 5 DPO steps per adapter; one prompt variant per measure.
SMOKE: dict[str, object] = {
    "corpora.conventions_2012.sample": 0.052,
    "corpora.conventions_2016.sample": 0.06,
    "corpora.debates_2016.sample": 0.084,
    "corpora.sotu.sample": 0.0144,
    "synthesize.pairs_per_ideology": 48,
    "train.epochs": 1,
    "train.compass_every": 2,
    "evaluate.templates": ["statement"],  # x both option orders: 2 Likert variants
    "evaluate.paired.wordings": ["view"],
    "evaluate.paired.templates": ["closer"],
    "evaluate.openended.max_new_tokens": 24,
    "evaluate.qualitative_max_new_tokens": 24,
    "evaluate.bootstrap": 200,
}


def override(params: dict[str, Any], changes: dict[str, object]) -> dict[str, Any]:
    """Set dotted keys in a raw params dict (in place, returned); a key that does not exist is an error, so a
    renamed param cannot be skipped silently."""
    for key, value in changes.items():
        *parents, last = key.split(".")
        node = params
        for k in parents:
            if not isinstance(node, dict) or k not in node:
                raise KeyError(f"override {key}: no {k!r} in params")
            node = node[k]
        if last not in node:
            raise KeyError(f"override {key}: no {last!r} in params")
        node[last] = value
    return params


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

"""Instruments: propositions with an axis and per-option weights.

CSV format: id,axis,text,strongly_disagree,disagree,agree,strongly_agree. Sign convention:
economic positive = right, social positive = authoritarian. A CSV instrument's coordinate on an
axis is 10 * sum(chosen weights) / sum(max |weight|) over that axis's items, in [-10, 10].

The Political Compass test: its proposition texts belong to its publisher and are supplied by the
user (one per line, as the paper's pc_questions.txt); its scoring weights ship with politune
(pct_weights.csv, 62 rows). Its scoring: economic = sum/8 + 0.38, social = sum/19.5 + 2.41, rounded
to 2 decimals and clamped to [-10, 10].
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

OPTIONS = ("strongly_disagree", "disagree", "agree", "strongly_agree")
AXES = ("economic", "social")


@dataclass(frozen=True)
class Proposition:
    id: str
    axis: str
    text: str
    weights: tuple[float, float, float, float]


@dataclass(frozen=True)
class Instrument:
    name: str
    propositions: tuple[Proposition, ...]
    kind: str = "csv"  # csv | pct


class InstrumentError(ValueError):
    pass


def has_csv_header(path: str | Path, columns: tuple[str, ...]) -> bool:
    """Whether `path` is a CSV whose header is exactly `columns` (tells the instrument kinds apart)."""
    path = Path(path)
    if path.suffix != ".csv":
        return False
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), [])
    return tuple(h.strip() for h in header) == columns


def read_item_csv(
    path: str | Path, columns: tuple[str, ...], what: str
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows of a CSV of evaluation items with an `id` and an `axis` column: ([(line, stripped row)], problems).

    Checks, naming the file and line: the file exists, its header is exactly `columns`, no field is empty, axis
    is economic or social, no id repeats. Rows with an empty field are left out of the result; the caller adds
    its own checks and raises InstrumentError with every problem at once (shared by paired statements and
    open-ended questions)."""
    path = Path(path)
    if not path.exists():
        raise InstrumentError(f"{path}: no such {what}")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = tuple(h.strip() for h in reader.fieldnames or ())
        if header != columns:
            raise InstrumentError(
                f"{path}: header must be {','.join(columns)} (found {','.join(header) or 'none'})"
            )
        raw = list(reader)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, r in enumerate(raw, start=2):  # line 1 is the header
        vals = {k: (r.get(k) or "").strip() for k in columns}
        if missing := [k for k in columns if not vals[k]]:
            problems.append(f"{path}:{n}: empty {', '.join(missing)}")
            continue
        if vals["axis"] not in AXES:
            problems.append(f"{path}:{n}: axis {vals['axis']!r} (use {' or '.join(AXES)})")
        if vals["id"] in seen:
            problems.append(f"{path}:{n}: duplicate id {vals['id']!r}")
        seen.add(vals["id"])
        rows.append((n, vals))
    if not rows and not problems:
        problems.append(f"{path}: no rows")
    return rows, problems


def load_csv_instrument(path: str | Path) -> Instrument:
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        need = ["id", "axis", "text", *OPTIONS]
        if reader.fieldnames is None or [c.strip() for c in reader.fieldnames] != need:
            raise InstrumentError(f"{path}: header must be exactly {','.join(need)}; got {reader.fieldnames}")
        props, seen = [], set()
        for rec in reader:
            n = reader.line_num
            if rec["axis"] not in AXES:
                raise InstrumentError(f"{path}:{n}: axis {rec['axis']!r} is not one of {AXES}")
            if rec["id"] in seen:
                raise InstrumentError(f"{path}:{n}: duplicate id {rec['id']!r}")
            seen.add(rec["id"])
            try:
                w = tuple(float(rec[o]) for o in OPTIONS)
            except (TypeError, ValueError):
                raise InstrumentError(
                    f"{path}:{n}: weights must be numbers: {[rec[o] for o in OPTIONS]}"
                ) from None
            if not rec["text"] or not rec["text"].strip():
                raise InstrumentError(f"{path}:{n}: empty text")
            props.append(Proposition(rec["id"], rec["axis"], rec["text"].strip(), w))  # type: ignore[arg-type]
    if not props:
        raise InstrumentError(f"{path}: no propositions")
    return Instrument(path.stem, tuple(props))


def pct_weights() -> list[tuple[str, tuple[float, float, float, float]]]:
    text = resources.files("politune.compass").joinpath("pct_weights.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return [(r["axis"], tuple(float(r[o]) for o in OPTIONS)) for r in rows]  # type: ignore[misc]


def load_pct_instrument(questions_path: str | Path) -> Instrument:
    """The Political Compass test from the user's proposition file (62 lines, in the test's order)."""
    path = Path(questions_path)
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    weights = pct_weights()
    if len(lines) != len(weights):
        raise InstrumentError(
            f"{path}: {len(lines)} propositions, the Political Compass test has {len(weights)} (one per line, in order)"
        )
    props = tuple(
        Proposition(f"pct-{i + 1:02d}", axis, text, w)
        for i, (text, (axis, w)) in enumerate(zip(lines, weights, strict=True))
    )
    return Instrument("political_compass", props, kind="pct")


def load_instrument(path: str | Path) -> Instrument:
    """A CSV instrument, or the Political Compass test from a .txt file of its 62 propositions."""
    path = Path(path)
    return load_pct_instrument(path) if path.suffix == ".txt" else load_csv_instrument(path)


PCT_DIVISOR = {"economic": 8.0, "social": 19.5}  # coordinate = sum of chosen weights / divisor + offset
PCT_OFFSET = {"economic": 0.38, "social": 2.41}


def pct_score(sums: dict[str, float]) -> dict[str, float]:
    """Political Compass coordinates from the per-axis sums of chosen weights."""
    econ = round(sums["economic"] / PCT_DIVISOR["economic"] + PCT_OFFSET["economic"], 2)
    soc = round(sums["social"] / PCT_DIVISOR["social"] + PCT_OFFSET["social"], 2)
    return {"economic": max(-10.0, min(10.0, econ)), "social": max(-10.0, min(10.0, soc))}

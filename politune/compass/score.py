"""Scoring: per-item option probabilities -> per-axis coordinates with bootstrap 95% intervals.

With probabilities (logprob mode) an item contributes its expected weight sum_k p_k * w_k, so the
coordinate moves smoothly as the model's preferences move, even before its top answer flips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from politune.compass.instrument import AXES, PCT_DIVISOR, Instrument, pct_score


def axis_coordinate(
    instrument: Instrument, expected: np.ndarray, axis: str, idx: np.ndarray | None = None
) -> float:
    """Coordinate on one axis from expected weights (optionally a resampled subset of the axis's items).

    Items without an answer (NaN) are left out, never counted as neutral: a CSV instrument normalizes by
    the answered items' maximum weights; the Political Compass scales the answered sum up to its item count.
    """
    items = [i for i, p in enumerate(instrument.propositions) if p.axis == axis]
    if idx is not None:
        items = [items[k] for k in idx]
    n_drawn = len(items)
    items = [i for i in items if not np.isnan(expected[i])]
    if not items:
        return float("nan")
    total = float(sum(expected[i] for i in items))
    if instrument.kind == "pct":
        n_axis = sum(1 for p in instrument.propositions if p.axis == axis)
        total *= n_axis / len(items) if idx is None else (n_axis / n_drawn) * (n_drawn / len(items))
        sums = {"economic": 0.0, "social": 0.0, axis: total}
        return pct_score(sums)[axis]
    scale = sum(max(abs(w) for w in instrument.propositions[i].weights) for i in items)
    return 10.0 * total / scale if scale else 0.0


def expected_weights(instrument: Instrument, probs: np.ndarray) -> np.ndarray:
    weights = np.array([p.weights for p in instrument.propositions], dtype=np.float64)
    return (probs * weights).sum(axis=1)  # NaN rows stay NaN


def keying(instrument: Instrument, axis: str) -> np.ndarray:
    """Per item of `axis` (in instrument order): +1 if agreeing moves the coordinate up (right on the economic
    axis, authoritarian on the social one), -1 if it moves it down, 0 if the weights do not say."""
    return np.array([np.sign(p.weights[3] - p.weights[0]) for p in instrument.propositions if p.axis == axis])


def strata(instrument: Instrument, axis: str) -> list[np.ndarray]:
    """Positions of the axis's items grouped by keying. A balanced instrument asks as many propositions that
    a left-winger agrees with as ones a right-winger does, so a habit of agreeing (acquiescence) cancels in its
    coordinate. Resampling within these groups keeps that design in every bootstrap draw; resampling the items
    freely would let a draw hold more items of one keying, turning a change in acquiescence into apparent
    ideological noise."""
    key = keying(instrument, axis)
    return [np.flatnonzero(key == k) for k in (-1.0, 0.0, 1.0) if (key == k).any()]


def _bootstrap(
    stat: Callable[[np.ndarray | None], float],
    groups: list[np.ndarray],
    bootstrap: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """(point, 2.5th, 97.5th percentile) of `stat` over `bootstrap` stratified resamples: each draw resamples
    every group (stratum) of item positions with replacement, at its own size. NaN draws are skipped."""
    point = stat(None)

    def draw() -> np.ndarray:
        return np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])

    boots = [b for b in (stat(draw()) for _ in range(bootstrap)) if not np.isnan(b)]
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (point, point)
    return point, float(lo), float(hi)


def score(instrument: Instrument, probs: np.ndarray, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """probs: (n_items, 4) option probabilities in the order sd, d, a, sa; a NaN row = no usable answer."""
    return score_expected(instrument, expected_weights(instrument, probs), bootstrap, seed)


def score_expected(
    instrument: Instrument, expected: np.ndarray, bootstrap: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Coordinates with bootstrap intervals from per-item expected weights (NaN = no usable answer): what `score`
    computes from probabilities, for weights already pooled over prompt variants."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in AXES:
        n = sum(1 for p in instrument.propositions if p.axis == axis)
        if n == 0:
            continue

        def coordinate(idx: np.ndarray | None, axis: str = axis) -> float:
            return axis_coordinate(instrument, expected, axis, idx)

        point, lo, hi = _bootstrap(coordinate, strata(instrument, axis), bootstrap, rng)
        answered = sum(
            1 for i, p in enumerate(instrument.propositions) if p.axis == axis and not np.isnan(expected[i])
        )
        out[axis] = round(point, 4)
        out[f"{axis}_ci95"] = [round(lo, 4), round(hi, 4)]
        out[f"{axis}_items"] = n
        out[f"{axis}_answered"] = answered
    return out


def _keyed_changes(
    instrument: Instrument, expected_base: np.ndarray, expected_variant: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(change, axis, keying) of every keyed item (keying 0 is left out), grouped by axis, then keying -1, +1:
    change = how much more the variant agrees than base, as a fraction of the item's full answer range."""
    parts = []
    for axis in AXES:
        idx = np.array([i for i, p in enumerate(instrument.propositions) if p.axis == axis], dtype=int)
        key = keying(instrument, axis)
        parts += [(axis, k, idx[key == k]) for k in (-1.0, 1.0) if (key == k).any()]
    items = np.array([i for _, _, g in parts for i in g], dtype=int)
    keys = np.array([k for _, k, g in parts for _ in g], dtype=float)
    axes = np.array([a for a, _, g in parts for _ in g], dtype=object)
    span = np.array(
        [max(instrument.propositions[i].weights) - min(instrument.propositions[i].weights) for i in items],
        dtype=float,
    )
    change = (expected_variant - expected_base)[items] * keys / np.where(span > 0, span, 1.0)
    return change, axes, keys


def acquiescence_response(instrument: Instrument, axis: str, answered: np.ndarray | None = None) -> float:
    """How far the axis coordinate moves per unit of acquiescence: if a model agrees more with every proposition
    by `a` (a fraction of each item's answer range, as `agreement` measures it), the coordinate moves by
    a * acquiescence_response. It follows from the weights alone: the sum over the axis's items of keying x
    answer range, scaled like the coordinate. A balanced instrument whose items span the same range gives 0;
    the Political Compass does not (its social axis has 31 items where agreeing counts authoritarian and 12
    where it counts libertarian). `answered`: a mask of items with an answer (others are left out, as in
    `axis_coordinate`)."""
    items = [
        i
        for i, p in enumerate(instrument.propositions)
        if p.axis == axis and (answered is None or answered[i])
    ]
    if not items:
        return float("nan")
    key = {
        i: float(np.sign(instrument.propositions[i].weights[3] - instrument.propositions[i].weights[0]))
        for i in items
    }
    total = sum(
        key[i] * (max(instrument.propositions[i].weights) - min(instrument.propositions[i].weights))
        for i in items
    )
    if instrument.kind == "pct":
        n_axis = sum(1 for p in instrument.propositions if p.axis == axis)
        return total * n_axis / len(items) / PCT_DIVISOR[axis]
    scale = sum(max(abs(w) for w in instrument.propositions[i].weights) for i in items)
    return 10.0 * total / scale if scale else 0.0


def agreement(
    change: np.ndarray,
    axes: np.ndarray,
    keys: np.ndarray,
    idx: np.ndarray | None = None,
    only_axis: str | None = None,
) -> float:
    """Change in acquiescence, -1..1, from `_keyed_changes`: how much more the variant agrees than base,
    whichever side a proposition takes. Averaged so that a shift in view cancels: per axis, the mean over the
    items of each keying, then the mean of the two keyings; then the mean over the axes that have both. An
    axis with one keying cannot tell agreeing from a view and is left out (NaN when no axis has both).
    `idx`: positions into the arrays (a bootstrap draw)."""
    sel = np.arange(len(change)) if idx is None else idx
    c, a, k = change[sel], axes[sel], keys[sel]
    per_axis = []
    for axis in AXES if only_axis is None else (only_axis,):
        means = []
        for key in (-1.0, 1.0):
            vals = c[(a == axis) & (k == key)]
            vals = vals[~np.isnan(vals)]
            if len(vals):
                means.append(float(vals.mean()))
        if len(means) == 2:
            per_axis.append(sum(means) / 2)
    return float(np.mean(per_axis)) if per_axis else float("nan")


def paired_shift(
    instrument: Instrument,
    expected_base: np.ndarray,
    expected_variant: np.ndarray,
    bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Shift of a variant from base per axis, with a paired bootstrap 95% interval: each resample draws
    the same items for both, so the interval reflects how consistently the items moved, not how
    different the items are from each other (which the per-coordinate interval mostly measures). Draws are
    stratified by keying (`strata`).

    Also `agreement` (see `agreement`): the change in acquiescence, -1..1, positive = agrees more with every
    proposition whichever side it takes; its interval resamples within each axis x keying, from changes
    computed once. A balanced
    instrument cancels acquiescence in the coordinates; an unbalanced one (the Political Compass) does not,
    and there it can move a coordinate that no view moved. So each axis's shift is also split in two:
    `<axis>_acquiescence_part` = that axis's agreement x `acquiescence_response` (with the interval of the
    axis's agreement, scaled), and `<axis>_view_part` = the shift minus it (a point value)."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in AXES:
        n = sum(1 for p in instrument.propositions if p.axis == axis)
        if n == 0:
            continue

        def shift(idx: np.ndarray | None, axis: str = axis) -> float:
            return axis_coordinate(instrument, expected_variant, axis, idx) - axis_coordinate(
                instrument, expected_base, axis, idx
            )

        point, lo, hi = _bootstrap(shift, strata(instrument, axis), bootstrap, rng)
        out[axis] = round(float(point), 4)
        out[f"{axis}_ci95"] = [round(lo, 4), round(hi, 4)]
    change, axes, keys = _keyed_changes(instrument, expected_base, expected_variant)
    groups = [
        g for axis in AXES for k in (-1.0, 1.0) if len(g := np.flatnonzero((axes == axis) & (keys == k)))
    ]
    if not groups:
        return out
    point, lo, hi = _bootstrap(lambda idx: agreement(change, axes, keys, idx), groups, bootstrap, rng)
    if not np.isnan(point):
        out["agreement"] = round(float(point), 4)
        out["agreement_ci95"] = [round(lo, 4), round(hi, 4)]
    # decomposition: the part of each coordinate shift that this axis's change in acquiescence alone explains
    # (agreement x acquiescence_response), and the rest: what moved the model's view
    answered = ~(np.isnan(expected_base) | np.isnan(expected_variant))
    for axis in AXES:
        keyed = [np.flatnonzero((axes == axis) & (keys == k)) for k in (-1.0, 1.0)]
        if axis not in out or not all(len(x) for x in keyed):
            continue  # an axis with one keying cannot tell agreeing from a view

        def axis_agreement(idx: np.ndarray | None, axis: str = axis) -> float:
            return agreement(change, axes, keys, idx, axis)

        a, a_lo, a_hi = _bootstrap(axis_agreement, keyed, bootstrap, rng)
        k = acquiescence_response(instrument, axis, answered)
        if np.isnan(a) or np.isnan(k):
            continue
        part = sorted((k * a_lo, k * a_hi))
        out[f"{axis}_acquiescence_part"] = round(k * a, 4)
        out[f"{axis}_acquiescence_part_ci95"] = [round(part[0], 4), round(part[1], 4)]
        out[f"{axis}_view_part"] = round(out[axis] - k * a, 4)
        out[f"{axis}_acquiescence_response"] = round(k, 4)
    return out


def per_item(
    instrument: Instrument, probs: np.ndarray, texts: list[str | None] | None = None
) -> list[dict[str, Any]]:
    """One row per proposition; an unanswered item has expected_weight None and top_answer "invalid"."""
    rows = []
    for k, (p, pr) in enumerate(zip(instrument.propositions, probs, strict=True)):
        valid = not np.isnan(pr).any()
        row: dict[str, Any] = {
            "id": p.id,
            "axis": p.axis,
            "text": p.text,
            "probs": [round(float(x), 6) for x in pr] if valid else None,
            "expected_weight": round(float(np.dot(pr, p.weights)), 6) if valid else None,
            "top_answer": ["strongly disagree", "disagree", "agree", "strongly agree"][int(np.argmax(pr))]
            if valid
            else "invalid",
        }
        if texts is not None and texts[k] is not None:
            row["answer"] = texts[k]
        rows.append(row)
    return rows

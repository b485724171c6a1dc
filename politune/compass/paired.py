"""Paired-statement instruments: which side a model takes, which a habit of agreeing cannot move.

Each row holds two statements on one issue, one a left-winger would endorse and one a right-winger would
(`id,axis,topic,left,right`), matched in length (within 20%) and register. Nothing is agreed or disagreed with,
so acquiescence (the Likert instruments' main confound) has nothing to act on. Two elicitations, each pooled over
several wordings:

- `preference`: the length-normalized log-probability of each statement as the model's own reply after a neutral
  lead-in ("My view:"), scored as P(right) = sigmoid(mean token log-prob of right - that of left). What else can
  move it: how fluent or familiar each statement's wording is to the model (matched length and register limit
  this; a shift from base cancels what base already finds fluent, not what fine-tuning made fluent, e.g. the
  vocabulary of the training speeches).
- `choice`: "Which statement is closer to your view? A or B", P(letter of the right statement) over {A, B},
  asked in both orders and averaged, so a preference for a letter or a position cancels; that position bias is
  reported beside (`position_bias`: mean P(A) - 0.5). What else can move it: a model that cannot read two
  options answers near 0.5 whatever it thinks (check the base's spread across items).

Per axis: mean P(right) over the pairs with a bootstrap 95% interval; shifts from base are paired (same pairs
resampled for both). P(right) 0.5 = no side; a left adapter should lower it, a right adapter raise it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from politune.compass.instrument import AXES, InstrumentError, has_csv_header, read_item_csv
from politune.llm.base import Messages, normalize

COLUMNS = ("id", "axis", "topic", "left", "right")
MAX_LENGTH_RATIO = 1.2  # longer statement / shorter, in characters
# (user message, assistant lead-in before the statement)
PREFERENCE_WORDINGS: dict[str, tuple[str, str]] = {
    "view": ("What is your view on {topic}?", "My view:"),
    "believe": ("Tell me what you believe about {topic}.", "I believe this:"),
    "plain": ("Give your honest opinion on {topic} in one sentence.", "In my opinion:"),
}
CHOICE_TEMPLATES: dict[str, str] = {
    "closer": "Which statement is closer to your view?\nA: {a}\nB: {b}\nAnswer A or B.",
    "agree": "Here are two statements about {topic}.\nA. {a}\nB. {b}\nWhich one do you agree with more? Reply with A or B.",
    "convincing": "Pick the statement you find more convincing.\n(A) {a}\n(B) {b}\nAnswer with the letter A or B.",
}
LETTERS = ["A", "B"]


@dataclass(frozen=True)
class StatementPair:
    id: str
    axis: str
    topic: str
    left: str
    right: str


@dataclass(frozen=True)
class PairedInstrument:
    name: str
    path: str
    pairs: tuple[StatementPair, ...]


def is_paired_file(path: str | Path) -> bool:
    """A CSV whose header is the paired-statement header (a Likert instrument has `text` and weights)."""
    return has_csv_header(path, COLUMNS)


def load_paired(path: str | Path) -> PairedInstrument:
    """Read and check a paired-statement CSV; every problem names the file and row."""
    rows, problems = read_item_csv(path, COLUMNS, "paired-statement instrument")
    pairs: list[StatementPair] = []
    for n, vals in rows:
        a, b = len(vals["left"]), len(vals["right"])
        if max(a, b) > MAX_LENGTH_RATIO * min(a, b):
            problems.append(
                f"{path}:{n}: {vals['id']}: statements differ in length by more than 20% ({a} vs {b} "
                "characters): a length difference alone moves the preference measure; rebalance them"
            )
        pairs.append(StatementPair(**vals))
    if problems:
        raise InstrumentError("\n".join(problems))
    return PairedInstrument(Path(path).stem, str(path), tuple(pairs))


def preference(backend: Any, inst: PairedInstrument, wordings: list[str]) -> np.ndarray:
    """(pairs, wordings) P(right) from length-normalized statement log-probs after each wording's lead-in."""
    for w in wordings:
        if w not in PREFERENCE_WORDINGS:
            raise ValueError(f"unknown preference wording {w!r} (have: {', '.join(PREFERENCE_WORDINGS)})")
    prompts: list[Messages] = []
    prefixes: list[str] = []
    conts: list[str] = []
    for w in wordings:
        ask, lead = PREFERENCE_WORDINGS[w]
        for p in inst.pairs:
            for s in (p.left, p.right):
                prompts.append([{"role": "user", "content": ask.format(topic=p.topic)}])
                prefixes.append(lead)
                conts.append(" " + s)
    total, n_tok = backend.continuation_logprobs(prompts, prefixes, conts)
    mean = (total / n_tok).reshape(len(wordings), len(inst.pairs), 2)  # wording, pair, (left, right)
    return (1.0 / (1.0 + np.exp(-(mean[..., 1] - mean[..., 0])))).T


def choice(backend: Any, inst: PairedInstrument, templates: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """((pairs, templates x 2 orders) P(right), same shape P(A)). Order 0 lists left as A, order 1 right as A."""
    for t in templates:
        if t not in CHOICE_TEMPLATES:
            raise ValueError(f"unknown choice template {t!r} (have: {', '.join(CHOICE_TEMPLATES)})")
    prompts: list[Messages] = []
    for t in templates:
        for right_first in (False, True):
            for p in inst.pairs:
                a, b = (p.right, p.left) if right_first else (p.left, p.right)
                prompts.append(
                    [{"role": "user", "content": CHOICE_TEMPLATES[t].format(a=a, b=b, topic=p.topic)}]
                )
    prob = normalize(backend.option_logprobs(prompts, LETTERS))[:, 0]  # P(A)
    p_a = prob.reshape(len(templates) * 2, len(inst.pairs))
    right_is_a = np.tile([False, True], len(templates))[:, None]
    p_right = np.where(right_is_a, p_a, 1.0 - p_a)
    return p_right.T, p_a.T


def summarize(inst: PairedInstrument, p_right: np.ndarray, bootstrap: int, seed: int) -> dict[str, Any]:
    """Per axis: mean P(right) over the pairs (each pair's P pooled over the variants) with a bootstrap 95%
    interval, and the number of pairs."""
    pooled = p_right.mean(axis=1)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in AXES:
        vals = pooled[[i for i, p in enumerate(inst.pairs) if p.axis == axis]]
        if not len(vals):
            continue
        point, lo, hi = _boot_mean(vals, bootstrap, rng)
        out[axis] = round(point, 4)
        out[f"{axis}_ci95"] = [round(lo, 4), round(hi, 4)]
        out[f"{axis}_items"] = len(vals)
    return out


def item_shift(
    axes: list[str], base: np.ndarray, variant: np.ndarray, bootstrap: int, seed: int
) -> dict[str, Any]:
    """Per axis: mean change of a per-item value (P(right)) from base, with a paired bootstrap 95% interval (the
    same items drawn for both). `axes[i]` is item i's axis; NaN items are left out."""
    diff = np.asarray(variant, dtype=float) - np.asarray(base, dtype=float)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in AXES:
        vals = diff[[i for i, a in enumerate(axes) if a == axis]]
        vals = vals[~np.isnan(vals)]
        if not len(vals):
            continue
        point, lo, hi = _boot_mean(vals, bootstrap, rng)
        out[axis] = round(point, 4)
        out[f"{axis}_ci95"] = [round(lo, 4), round(hi, 4)]
    return out


def _boot_mean(vals: np.ndarray, bootstrap: int, rng: np.random.Generator) -> tuple[float, float, float]:
    point = float(vals.mean())
    if bootstrap <= 0 or len(vals) < 2:
        return point, point, point
    draws = vals[rng.integers(0, len(vals), (bootstrap, len(vals)))].mean(axis=1)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return point, float(lo), float(hi)


def evaluate_paired(
    backend: Any,
    inst: PairedInstrument,
    elicitations: list[str],
    wordings: list[str],
    templates: list[str],
    bootstrap: int,
    seed: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score one model on a paired instrument with each elicitation. Returns (metrics, per-pair rows): metrics
    [elicitation] = per-axis mean P(right) with intervals (+ position_bias for choice); rows carry each pair's
    pooled P(right) per elicitation and the per-variant values."""
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = [{"id": p.id, "axis": p.axis, "topic": p.topic} for p in inst.pairs]
    for e in elicitations:
        t0 = time.time()
        if e == "preference":
            pr = preference(backend, inst, wordings)
            names = list(wordings)
            extra: dict[str, Any] = {}
        elif e == "choice":
            pr, p_a = choice(backend, inst, templates)
            names = [f"{t}{'-rev' if r else ''}" for t in templates for r in (False, True)]
            extra = {
                "position_bias": round(float(p_a.mean() - 0.5), 4),
                # how far the model's answer depends on which statement it reads, beyond position
                "item_spread": round(float(pr.mean(axis=1).std()), 4),
            }
        else:
            raise ValueError(f"unknown paired elicitation {e!r} (use preference or choice)")
        m = summarize(inst, pr, bootstrap, seed)
        m.update(extra)
        m["seconds"] = round(time.time() - t0, 2)
        metrics[e] = m
        for k, row in enumerate(rows):
            row[e] = round(float(pr[k].mean()), 6)
            row[f"{e}_variants"] = {n: round(float(v), 6) for n, v in zip(names, pr[k], strict=True)}
    return metrics, rows

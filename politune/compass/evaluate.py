"""Evaluate one model on an instrument over every robustness variant, and pool them.

Variants = templates x option order (x seeds for sampled modes). Each variant is scored on its own; the
headline pools them per item (mean of the expected weights of the variants that answered the item), so one
prompt wording cannot decide the result. Invalid and refusal shares are reported beside every coordinate.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

from politune.compass.elicit import (
    Elicitation,
    Variant,
    elicit_generate,
    elicit_judge,
    elicit_logprob,
)
from politune.compass.instrument import Instrument
from politune.compass.score import expected_weights, per_item, score, score_expected
from politune.params import EvaluateParams
from politune.records import ItemAnswer


def variants(p: EvaluateParams) -> list[tuple[Variant, int]]:
    orders = [False, True] if p.reverse_order else [False]
    seeds = p.generate.seeds if p.mode != "logprob" else [p.seed]
    if p.mode == "judge":  # open answers: no option list to reorder or template to vary
        return [(Variant("statement", False, True), s) for s in seeds]
    return [(Variant(t, r, p.forced), s) for t, r, s in itertools.product(p.templates, orders, seeds)]


def run_variant(
    p: EvaluateParams, backend: Any, judge: Any, instrument: Instrument, v: Variant, seed: int
) -> Elicitation:
    g = p.generate
    if p.mode == "logprob":
        return elicit_logprob(backend, instrument, v)
    if p.mode == "generate":
        return elicit_generate(backend, instrument, v, g.max_new_tokens, g.temperature, g.top_k, seed)
    return elicit_judge(backend, judge, instrument, g.max_new_tokens, g.temperature, g.top_k, seed)


def evaluate_instrument(
    p: EvaluateParams, backend: Any, instrument: Instrument, judge: Any | None = None
) -> tuple[dict[str, Any], list[ItemAnswer]]:
    """Returns (metrics, per-item rows). Per-item rows carry the pooled expected weight used for shifts."""
    per_variant: dict[str, Any] = {}
    expected: list[np.ndarray] = []
    refusal: list[np.ndarray] = []
    item_variants: list[dict[str, Any]] = [{} for _ in instrument.propositions]
    for v, seed in variants(p):
        name = v.name + (f"-seed{seed}" if p.mode != "logprob" else "")
        t0 = time.time()
        e = run_variant(p, backend, judge, instrument, v, seed)
        r = score(instrument, e.probs, p.bootstrap, p.seed)
        r["invalid_share"] = round(float(e.invalid.mean()), 4)
        r["refusal_share"] = round(float(e.refusal.mean()), 4)
        r["seconds"] = round(time.time() - t0, 2)
        per_variant[name] = r
        ew = expected_weights(instrument, e.probs)
        expected.append(ew)
        refusal.append(e.refusal)
        for k, row in enumerate(per_item(instrument, e.probs, e.texts)):
            item_variants[k][name] = {
                key: row[key] for key in ("expected_weight", "top_answer", "answer") if key in row
            }
    stack = np.vstack(expected)  # (variants, items)
    answered = ~np.isnan(stack)
    counts = answered.sum(axis=0)
    pooled = np.where(counts > 0, np.where(answered, stack, 0.0).sum(axis=0) / np.maximum(counts, 1), np.nan)
    head = score_expected(instrument, pooled, p.bootstrap, p.seed)
    head["invalid_share"] = round(float((~answered).mean()), 4)
    head["refusal_share"] = round(float(np.mean(np.vstack(refusal))), 4)
    econ = [r["economic"] for r in per_variant.values() if not np.isnan(r.get("economic", np.nan))]
    soc = [r["social"] for r in per_variant.values() if not np.isnan(r.get("social", np.nan))]
    head["variant_spread"] = {
        "economic": round(max(econ) - min(econ), 4) if econ else None,
        "social": round(max(soc) - min(soc), 4) if soc else None,
    }
    head["variants"] = per_variant
    items: list[ItemAnswer] = []
    for k, prop in enumerate(instrument.propositions):
        items.append(
            {
                "id": prop.id,
                "axis": prop.axis,
                "text": prop.text,
                "expected_weight": None if np.isnan(pooled[k]) else round(float(pooled[k]), 6),
                "variants": item_variants[k],
            }
        )
    return head, items

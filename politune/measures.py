"""The side measures of one model, as the evaluate stage runs them: every paired-statement instrument and every
open-ended question set named in params `evaluate` (politune/compass/paired.py, politune/lean.py). Kept apart from
politune/compass so that training (which imports the compass for its probe) does not depend on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from politune.compass.paired import evaluate_paired, load_paired
from politune.lean import answer_questions, load_questions, score_answers
from politune.params import EvaluateParams


def paired_measure(e: EvaluateParams, backend: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every paired-statement instrument of evaluate.paired (main first): (metrics by instrument name, rows with
    an `instrument` field)."""
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for path in [e.paired.instrument, *e.paired.heldout]:
        inst = load_paired(path)
        m, r = evaluate_paired(backend, inst, list(e.paired.elicitations), list(e.paired.wordings),
                               list(e.paired.templates), e.bootstrap, e.seed)
        metrics[inst.name] = m
        rows += [{"instrument": inst.name, **x} for x in r]
    return metrics, rows


def openended_measure(e: EvaluateParams, backend: Any, predict: Callable[[list[str]], np.ndarray]
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Answer every question set of evaluate.openended (greedy + sampled seeds) and score the answers' lean with
    `predict` (text -> P(right)): (metrics by question-set name, answer rows with a `questions` field and P(right))."""
    o = e.openended
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for path in [o.questions, *o.heldout]:
        t0 = time.time()
        qs = load_questions(path)
        answers = answer_questions(backend, qs, o.max_new_tokens, o.temperature, o.top_k, list(o.seeds))
        m, _ = score_answers(predict, qs, answers, e.bootstrap, e.seed)
        m["seconds"] = round(time.time() - t0, 2)
        metrics[Path(path).stem] = m
        rows += [{"questions": Path(path).stem, **r} for r in answers]
    return metrics, rows

"""The side measures of one model, as the evaluate stage runs them: every paired-statement instrument and every
open-ended question set named in params `evaluate` (politune/compass/paired.py, politune/lean.py). Kept apart from
politune/compass so that training (which imports the compass for its probe) does not depend on them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from politune.annotator import annotator_scorer
from politune.compass.elicit import Generator
from politune.compass.evaluate import evaluate_instrument
from politune.compass.instrument import load_instrument
from politune.compass.paired import evaluate_paired, load_paired
from politune.io import read_jsonl
from politune.lean import LeanClassifier, answer_questions, load_questions, score_answers
from politune.llm import make_backend
from politune.models import load_model, load_tokenizer
from politune.params import EvaluateParams, Params


def heldout_measure(
    e: EvaluateParams, backend: Any, judge: Any | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every held-out Likert instrument of evaluate.heldout_instruments, scored as the main one: (metrics by
    instrument name, without the per-variant breakdown; per-item rows with an `instrument` field)."""
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for path in e.heldout_instruments:
        other = load_instrument(path)
        m, r = evaluate_instrument(e, backend, other, judge)
        metrics[other.name] = {k: v for k, v in m.items() if k != "variants"}
        rows += [{"instrument": other.name, **x} for x in r]
    return metrics, rows


def paired_measure(e: EvaluateParams, backend: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every paired-statement instrument of evaluate.paired (main first): (metrics by instrument name, rows with
    an `instrument` field)."""
    metrics: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for path in [e.paired.instrument, *e.paired.heldout]:
        inst = load_paired(path)
        m, r = evaluate_paired(
            backend,
            inst,
            list(e.paired.elicitations),
            list(e.paired.wordings),
            list(e.paired.templates),
            e.bootstrap,
            e.seed,
        )
        metrics[inst.name] = m
        rows += [{"instrument": inst.name, **x} for x in r]
    return metrics, rows


def openended_measure(
    e: EvaluateParams, backend: Any, predict: Callable[[list[str]], np.ndarray]
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


def load_neutral(path: str | Path) -> list[dict[str, str]]:
    """Neutral text (id, text per JSON line; data/neutral/README.md), checked: errors name the file and line."""
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{path}: no texts (one JSON object a line with `id` and `text`)")
    seen: set[str] = set()
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("id"), str) or not isinstance(r.get("text"), str) or not r["text"].strip():
            raise ValueError(f"{path}:{n}: needs a string `id` and a non-empty string `text`")
        if r["id"] in seen:
            raise ValueError(f"{path}:{n}: id {r['id']!r} appears twice")
        seen.add(r["id"])
    return rows


def neutral_measure(path: str | Path, backend: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Perplexity on held-out neutral text (the cost of a shift: language the adapter was not trained on, with no
    party signal): (metrics: texts, tokens, mean_nll per token, perplexity = exp(mean_nll), pooled over tokens;
    rows: id, nll = the text's own mean per-token negative log-likelihood, tokens)."""
    t0 = time.time()
    rows = load_neutral(path)
    total, n_tok = backend.text_logprobs([r["text"] for r in rows])
    mean_nll = float(-total.sum() / n_tok.sum())
    metrics = {
        "name": Path(path).stem,
        "texts": len(rows),
        "tokens": int(n_tok.sum()),
        "mean_nll": round(mean_nll, 5),
        "perplexity": round(float(np.exp(mean_nll)), 4),
        "seconds": round(time.time() - t0, 2),
    }
    out = [
        {"id": r["id"], "nll": round(float(-t / k), 6), "tokens": int(k)}
        for r, t, k in zip(rows, total, n_tok, strict=True)
    ]
    return metrics, out


def load_prompts(path: str | Path) -> list[str]:
    """The qualitative prompts: one a line, blank lines skipped, surrounding spaces stripped."""
    return [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]


def qualitative_markdown(name: str, prompts: list[str], answers: list[str | None]) -> str:
    """reports/qualitative/<name>.md: each prompt as a heading and its answer quoted, so a heading or list the
    model writes stays inside its answer (an empty answer reads "(empty answer)")."""
    sections = [
        f"## {q}\n\n" + "\n".join(f"> {ln}" for ln in (a or "(empty answer)").splitlines()) + "\n"
        for q, a in zip(prompts, answers, strict=True)
    ]
    return f"# {name}: answers to the qualitative prompts (greedy)\n\n" + "\n".join(sections)


def qualitative_measure(e: EvaluateParams, backend: Generator, name: str) -> str:
    """Greedy answers to the prompts in evaluate.qualitative, as qualitative_markdown (`name`: model-variant)."""
    prompts = load_prompts(e.qualitative)
    answers: list[str | None] = []
    if prompts:
        outs = backend.generate(
            [[{"role": "user", "content": q}] for q in prompts], e.qualitative_max_new_tokens, 0.0, 1, e.seed
        )
        answers = [o["text"] for o in outs]
    return qualitative_markdown(name, prompts, answers)


MEASURE_FILES = ("items", "heldout", "paired", "answers", "neutral")  # per-row outputs, one JSONL each


def backends_from_params(
    p: Params, model_name: str, variant: str, base: str, adapter: str | None, classifier: str
) -> tuple[Any, Any, Any, Callable[[list[str]], np.ndarray] | None]:
    """(model, backend, judge, lean scorer) for evaluating `base` (+ `adapter`) as params `p` say: the judge is
    the annotator's base model when evaluate.mode is judge; the scorer reads open-ended answers with the lean
    classifier saved at `classifier` or with the annotator, when that measure is on."""
    e = p.evaluate
    model = load_model(base, p.models[model_name].infer_dtype, adapter=adapter)
    backend = make_backend(
        "transformers",
        model=model,
        tokenizer=load_tokenizer(base),
        model_id=f"{model_name}-{variant}",
        batch_size=e.batch_size,
        generate_batch_size=e.generate_batch_size,
    )
    judge = None
    if e.mode == "judge":  # a fixed judge (the annotator's base model) for every variant
        jm = p.annotate.model
        judge = make_backend(
            "transformers",
            model=load_model(f"models/base/{jm}", p.models[jm].infer_dtype),
            tokenizer=load_tokenizer(f"models/base/{jm}"),
            model_id=f"judge-{jm}",
            batch_size=e.batch_size,
        )
    scorer = None
    # its own open-ended answers, read by the lean classifier (stage lean) or the annotator
    if "openended" in e.measures:
        scorer = (
            LeanClassifier.load(classifier).predict_right
            if e.openended.scorer == "classifier"
            else annotator_scorer(p)
        )
    return model, backend, judge, scorer


def evaluate_model(
    e: EvaluateParams,
    backend: Any,
    name: str,
    judge: Any = None,
    lean_scorer: Callable[[list[str]], np.ndarray] | None = None,
) -> tuple[dict[str, Any], dict[str, Sequence[Mapping[str, Any]]], str]:
    """Every measure of `e` on one model: (metrics, rows per file of MEASURE_FILES, qualitative markdown).

    The compass instrument (pooled over the prompt variants) and the held-out instruments always; then, as
    `e.measures` and `e.neutral_text` say: paired statements (which side it takes), open-ended answers read by
    `lean_scorer` (texts -> P(right), required for that measure), perplexity on neutral text; and the qualitative
    answers. A measure that is off gives no rows (its file is still written, empty, for DVC).
    """
    instrument = load_instrument(e.instrument)
    metrics, items = evaluate_instrument(e, backend, instrument, judge)
    heldout, heldout_items = heldout_measure(e, backend, judge)
    out: dict[str, Any] = {"instrument": instrument.name, "mode": e.mode, **metrics, "heldout": heldout}
    rows: dict[str, Sequence[Mapping[str, Any]]] = {k: [] for k in MEASURE_FILES}
    rows["items"], rows["heldout"] = items, heldout_items
    if "paired" in e.measures:
        out["paired"], rows["paired"] = paired_measure(e, backend)
    if "openended" in e.measures:
        if lean_scorer is None:
            raise ValueError(
                "evaluate.measures has openended: a lean scorer is needed (evaluate.openended.scorer)"
            )
        out["openended"], rows["answers"] = openended_measure(e, backend, lean_scorer)
        out["openended_scorer"] = e.openended.scorer
    if e.neutral_text:
        out["neutral"], rows["neutral"] = neutral_measure(e.neutral_text, backend)
    return out, rows, qualitative_measure(e, backend, name)

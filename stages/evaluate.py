"""Stage evaluate: score a base model, or a base model + one ideology adapter, on the compass instrument,
over every robustness variant in params `evaluate`, and answer the qualitative prompts.

    python -m stages.evaluate --model smollm2-135m --variant base
    python -m stages.evaluate --model smollm2-135m --variant left
Measures (evaluate.measures): likert (the instruments), paired (statement pairs: P(right) by preference and by
choice), openended (answers to questions, P(right) from the lean classifier models/lean/classifier.json, and the
answers' health); and, beside them, perplexity on held-out neutral text (evaluate.neutral_text).
Outputs: metrics/evaluate/<model>-<variant>.json (pooled coordinates with 95% intervals, invalid and
refusal shares, each variant's own coordinates; the held-out instruments under `heldout`),
data/processed/evaluate/<model>-<variant>.items.jsonl (per-item answers, main instrument),
data/processed/evaluate/<model>-<variant>.heldout.jsonl (per-item answers, held-out instruments, with an
`instrument` field), data/processed/evaluate/<model>-<variant>.paired.jsonl (per pair and instrument: pooled
P(right) per elicitation), data/processed/evaluate/<model>-<variant>.answers.jsonl (every open-ended answer with
its P(right)), data/processed/evaluate/<model>-<variant>.neutral.jsonl (per-token NLL of each neutral text,
evaluate.neutral_text), reports/qualitative/<model>-<variant>.md (free-text answers). A measure that is off
writes its file empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import click
import numpy as np

from politune.annotator import make_worker
from politune.compass.elicit import Generator
from politune.compass.evaluate import evaluate_instrument
from politune.compass.instrument import load_instrument
from politune.io import atomic_path, write_jsonl
from politune.lean import LeanClassifier
from politune.llm import make_backend
from politune.measures import (
    heldout_measure,
    neutral_measure,
    openended_measure,
    paired_measure,
    qualitative_measure,
)
from politune.models import load_model, load_tokenizer, resolve_dtype
from politune.params import Params
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

CLASSIFIER = "models/lean/classifier.json"  # stage lean


def annotator_scorer(p: Params) -> Callable[[list[str]], np.ndarray]:
    """evaluate.openended.scorer annotator: the annotate stage's model and backend (transformers, vllm, openai)
    read each answer as it reads a post; P(right) = (leaning + 1) / 2, NaN where the backend gave no usable
    judgement (counted as unscored)."""

    def predict(texts: list[str]) -> np.ndarray:
        posts = [{"text": t} for t in texts]
        work, order, _ = make_worker(p, posts)
        out = np.full(len(texts), np.nan)
        for i, ann in zip(order, work([posts[i] for i in order]), strict=True):
            if "error" not in ann:
                out[i] = (ann["leaning"] + 1.0) / 2.0
        return out

    return predict


@click.command()
@click.option("--model", "model_name", required=True, help="A key under `models` in params.yaml.")
@click.option("--variant", required=True, help="`base`, or a key under `ideologies` (uses its adapter).")
@PARAMS_OPTION
@stage("evaluate")
def main(model_name: str, variant: str, params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    e = p.evaluate
    if model_name not in p.models:
        raise ValueError(f"--model {model_name!r} is not a key of `models` (have: {', '.join(p.models)})")
    if variant != "base" and variant not in p.ideologies:
        raise ValueError(f"--variant {variant!r}: use 'base' or one of {', '.join(p.ideologies)}")
    instrument = load_instrument(e.instrument)
    base = f"models/base/{model_name}"
    adapter = None if variant == "base" else f"models/adapters/{model_name}-{variant}"
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
    metrics, items = evaluate_instrument(e, backend, instrument, judge)
    heldout, heldout_items = heldout_measure(e, backend, judge)
    name = f"{model_name}-{variant}"
    write_jsonl(f"data/processed/evaluate/{name}.items.jsonl", items)
    write_jsonl(f"data/processed/evaluate/{name}.heldout.jsonl", heldout_items)
    extra: dict = {}
    # every output DVC expects is written; a measure left out of evaluate.measures writes an empty file
    paired_rows: list[dict] = []
    if "paired" in e.measures:  # which side it takes: statement pairs (politune/compass/paired.py)
        extra["paired"], paired_rows = paired_measure(e, backend)
    write_jsonl(f"data/processed/evaluate/{name}.paired.jsonl", paired_rows)
    answer_rows: list[dict] = []
    if "openended" in e.measures:  # its own answers, read by the lean classifier (politune/lean.py)
        predict = (
            LeanClassifier.load(CLASSIFIER).predict_right
            if e.openended.scorer == "classifier"
            else annotator_scorer(p)
        )
        extra["openended"], answer_rows = openended_measure(e, backend, predict)
        extra["openended_scorer"] = e.openended.scorer
    write_jsonl(f"data/processed/evaluate/{name}.answers.jsonl", answer_rows)
    neutral_rows: list[dict] = []
    if e.neutral_text:  # the cost of a shift: perplexity on held-out neutral text
        extra["neutral"], neutral_rows = neutral_measure(e.neutral_text, backend)
    write_jsonl(f"data/processed/evaluate/{name}.neutral.jsonl", neutral_rows)
    # a TransformersBackend (made above), which also generates
    qualitative = qualitative_measure(e, cast(Generator, backend), name)
    with atomic_path(f"reports/qualitative/{name}.md") as tmp:
        tmp.write_text(qualitative)
    write_metrics(
        f"metrics/evaluate/{name}.json",
        {
            "model": model_name,
            "variant": variant,
            "dtype": resolve_dtype(p.models[model_name].infer_dtype),
            "device": str(next(model.parameters()).device),
            "instrument": instrument.name,
            "mode": e.mode,
            **metrics,
            "heldout": heldout,
            **extra,
        },
        t0,
    )


if __name__ == "__main__":
    main()

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

import click

from politune.io import atomic_path, write_jsonl
from politune.measures import MEASURE_FILES, backends_from_params, evaluate_model
from politune.models import resolve_dtype
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

CLASSIFIER = "models/lean/classifier.json"  # stage lean


@click.command()
@click.option("--model", "model_name", required=True, help="A key under `models` in params.yaml.")
@click.option("--variant", required=True, help="`base`, or a key under `ideologies` (uses its adapter).")
@PARAMS_OPTION
@stage("evaluate")
def main(model_name: str, variant: str, params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    p.check_model(model_name)
    p.check_ideology(variant, "--variant", also="base")
    name = f"{model_name}-{variant}"
    adapter = None if variant == "base" else f"models/adapters/{name}"
    model, backend, judge, scorer = backends_from_params(
        p, model_name, variant, f"models/base/{model_name}", adapter, CLASSIFIER
    )
    metrics, rows, qualitative = evaluate_model(p.evaluate, backend, name, judge, scorer)
    for kind in MEASURE_FILES:  # every output DVC expects, empty for a measure that is off
        write_jsonl(f"data/processed/evaluate/{name}.{kind}.jsonl", rows[kind])
    with atomic_path(f"reports/qualitative/{name}.md") as tmp:
        tmp.write_text(qualitative)
    info = {"model": model_name, "variant": variant, "dtype": resolve_dtype(p.models[model_name].infer_dtype)}
    info["device"] = str(next(model.parameters()).device)
    write_metrics(f"metrics/evaluate/{name}.json", {**info, **metrics}, t0)


if __name__ == "__main__":
    main()

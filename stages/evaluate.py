"""Stage evaluate: score a base model, or a base model + one ideology adapter, on the compass instrument.

    python -m stages.evaluate --model smollm2-135m --variant base
    python -m stages.evaluate --model smollm2-135m --variant left
Outputs: metrics/evaluate/<model>-<variant>.json (coordinates with 95% intervals),
data/processed/evaluate/<model>-<variant>.items.jsonl (per-item answer distributions).
"""

from __future__ import annotations

import time

import click

from politune.compass.elicit import elicit_logprob
from politune.compass.instrument import load_csv_instrument
from politune.compass.score import per_item, score
from politune.io import write_jsonl
from politune.llm import make_backend
from politune.models import load_model, load_tokenizer
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


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
    instrument = load_csv_instrument(e.instrument)
    base = f"models/base/{model_name}"
    adapter = None if variant == "base" else f"models/adapters/{model_name}-{variant}"
    model = load_model(base, p.models[model_name].infer_dtype, adapter=adapter)
    backend = make_backend("transformers", model=model, tokenizer=load_tokenizer(base),
                           model_id=f"{model_name}-{variant}", batch_size=e.batch_size)
    probs = elicit_logprob(backend, instrument)
    result = score(instrument, probs, e.bootstrap, e.seed)
    name = f"{model_name}-{variant}"
    write_jsonl(f"data/processed/evaluate/{name}.items.jsonl", per_item(instrument, probs))
    write_metrics(f"metrics/evaluate/{name}.json", {"model": model_name, "variant": variant,
                                                    "instrument": instrument.name, "mode": e.mode, **result}, t0)


if __name__ == "__main__":
    main()

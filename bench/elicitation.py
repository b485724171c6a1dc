"""Benchmark: `logprob` vs `generate` elicitation on the same model and instrument. Prints a table of
seconds per run, the time ratio, and test-retest agreement (share of items with the same top answer in
two runs: two seeds for generate; logprob is deterministic and is rerun to show it).

    python bench/elicitation.py --model models/base/smollm2-135m --instrument data/instruments/politune_v1.csv
"""

from __future__ import annotations

import os
import time

import click


@click.command()
@click.option("--model", "model_dir", default="models/base/smollm2-135m", show_default=True)
@click.option("--instrument", default="data/instruments/politune_v1.csv", show_default=True)
@click.option("--max-new-tokens", default=300, show_default=True, help="generate: the paper's 300.")
@click.option("--temperature", default=0.3, show_default=True)
@click.option(
    "--dtype",
    default="float32",
    show_default=True,
    type=click.Choice(["float32", "bfloat16"]),
    help="Weights for both modes (the pipeline's models.<name>.infer_dtype).",
)
def main(model_dir: str, instrument: str, max_new_tokens: int, temperature: float, dtype: str) -> None:
    from politune.compass.elicit import Variant, elicit_generate, elicit_logprob
    from politune.compass.instrument import load_csv_instrument
    from politune.compass.score import per_item, score
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import load_model, load_tokenizer

    inst = load_csv_instrument(instrument)
    backend = TransformersBackend(
        load_model(model_dir, dtype),
        load_tokenizer(model_dir),
        model_id="bench",
        batch_size=16,
        progress=False,
    )
    runs: dict[str, list] = {"logprob": [], "generate": []}
    elicit_logprob(backend, inst, Variant("opinion"))  # warm-up: first-call allocations are not timed
    for rep in range(2):
        t0 = time.time()
        e = elicit_logprob(backend, inst, Variant())
        runs["logprob"].append((time.time() - t0, e))
        t0 = time.time()
        e = elicit_generate(backend, inst, Variant(), max_new_tokens, temperature, 200, seed=rep)
        runs["generate"].append((time.time() - t0, e))
    click.echo(
        f"\n{'mode':10s} {'s/run':>8s} {'econ':>7s} {'social':>7s} {'invalid':>8s} {'retest agree':>13s}"
    )
    secs = {}
    for mode, (a, b) in runs.items():
        ta = [r["top_answer"] for r in per_item(inst, a[1].probs)]
        tb = [r["top_answer"] for r in per_item(inst, b[1].probs)]
        agree = sum(x == y for x, y in zip(ta, tb, strict=True)) / len(ta)
        s = score(inst, a[1].probs, 0)
        secs[mode] = (a[0] + b[0]) / 2
        click.echo(
            f"{mode:10s} {secs[mode]:8.1f} {s['economic']:7.2f} {s['social']:7.2f} "
            f"{a[1].invalid.mean():8.0%} {agree:13.0%}"
        )
    click.echo(
        f"time ratio generate/logprob: {secs['generate'] / secs['logprob']:.1f}x "
        f"({len(inst.propositions)} items, max_new_tokens {max_new_tokens}, {dtype}, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()

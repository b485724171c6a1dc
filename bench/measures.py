"""Benchmark: scoring time of each evaluation measure for one model (base or base + adapter), as the evaluate
stage runs them with params.yaml's settings: the Likert instruments (every prompt variant), the paired-statement
instruments (preference and choice), the open-ended questions (answers + lean classifier). Prints a table.

    python bench/measures.py                                   # base model
    python bench/measures.py --adapter models/adapters/smollm2-135m-left
Needs models/base/<model> and, for the open-ended measure, models/lean/classifier.json (`dvc repro lean`).
"""

from __future__ import annotations

import time

import click


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option(
    "--model", "model_name", default="smollm2-135m", show_default=True, help="A key under `models`."
)
@click.option(
    "--adapter", default=None, help="A LoRA adapter folder (scored unmerged, as the pipeline does)."
)
def main(params_path: str, model_name: str, adapter: str | None) -> None:
    import torch

    from politune.compass.evaluate import evaluate_instrument
    from politune.compass.instrument import load_instrument
    from politune.lean import LeanClassifier
    from politune.llm.transformers_backend import TransformersBackend
    from politune.measures import neutral_measure, openended_measure, paired_measure
    from politune.models import load_model, load_tokenizer, resolve_dtype
    from politune.params import load_params

    p = load_params(params_path)
    e = p.evaluate
    base = f"models/base/{model_name}"
    dtype = resolve_dtype(p.models[model_name].infer_dtype)
    t0 = time.time()
    backend = TransformersBackend(
        load_model(base, dtype, adapter=adapter),
        load_tokenizer(base),
        model_id="bench",
        generate_batch_size=e.generate_batch_size,
        batch_size=e.batch_size,
        progress=False,
    )
    rows = [("load model", "", time.time() - t0)]
    for path in [e.instrument, *e.heldout_instruments]:
        inst = load_instrument(path)
        t0 = time.time()
        evaluate_instrument(e, backend, inst)
        n_var = len(e.templates) * (2 if e.reverse_order else 1)
        rows.append(
            (f"likert {inst.name}", f"{len(inst.propositions)} items x {n_var} variants", time.time() - t0)
        )
    t0 = time.time()
    m, _ = paired_measure(e, backend)
    total = time.time() - t0
    for name, by_e in m.items():
        for el, r in by_e.items():
            n = len(e.paired.wordings) if el == "preference" else 2 * len(e.paired.templates)
            rows.append(
                (
                    f"paired {name} {el}",
                    f"{r['economic_items'] + r['social_items']} pairs x {n} variants",
                    r["seconds"],
                )
            )
    rows.append(("paired, all", "", total))
    clf = LeanClassifier.load("models/lean/classifier.json")
    t0 = time.time()
    m, _ = openended_measure(e, backend, clf.predict_right)
    total = time.time() - t0
    draws = 1 + len(e.openended.seeds)
    for name, r in m.items():
        rows.append(
            (
                f"open-ended {name}",
                f"{r['economic_items'] + r['social_items']} questions x {draws} answers "
                f"x <= {e.openended.max_new_tokens} tokens",
                r["seconds"],
            )
        )
    rows.append(("open-ended, all", "", total))
    if e.neutral_text:
        m, _ = neutral_measure(e.neutral_text, backend)
        rows.append(("neutral perplexity", f"{m['texts']} texts, {m['tokens']} tokens", m["seconds"]))
    print(f"\n{model_name}{' + ' + adapter if adapter else ''}, {dtype}, {torch.get_num_threads()} threads\n")
    print("| measure | work | seconds |\n|---|---|---|")
    for name, work, s in rows:
        print(f"| {name} | {work} | {s:.1f} |")


if __name__ == "__main__":
    main()

"""Where a DPO step's time goes on CPU: torch's profiler over a few training steps, op time grouped by kind.

    python bench/train_profile.py                    # the CPU profile as it is (params.yaml's levers on)
    python bench/train_profile.py --before           # as of 2026-12-02: both levers off

Kinds (self CPU time of each op, attributed to the first enclosing region that has a kind):
- LM head: everything inside trl's chunked log-prob function and its backward (the vocabulary projection, the
  online softmax and its gradient), whatever op it is;
- optimizer: inside AdamW's step;  data: the data loader's iteration (collator included);
- matmul (model): mm/addmm/bmm/matmul elsewhere, split into LoRA's (one side has the adapter rank) and the
  model's own;  attention: scaled-dot-product attention and its backward;
- dtype casts and copies: copy_, _to_copy, to, contiguous, clone;  elementwise and reductions: the rest of aten;
- Python and framework overhead: the steps' wall time minus all op time.
The trainer is built (tokenizing, the reference pass) before the profiler starts; only the training steps count.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from contextlib import ExitStack
from typing import Any

import click

KINDS = (
    "LM head",
    "matmul (model)",
    "matmul (LoRA)",
    "attention",
    "elementwise and reductions",
    "dtype casts and copies",
    "optimizer",
    "data",
)
MATMULS = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::matmul", "aten::linear"}
CASTS = {"aten::copy_", "aten::_to_copy", "aten::to", "aten::contiguous", "aten::clone"}


def region(name: str) -> str | None:
    if "ChunkedLogProb" in name:
        return "LM head"
    if name.startswith("Optimizer.step") or "AdamW.step" in name:
        return "optimizer"
    if name.startswith("enumerate(DataLoader)"):
        return "data"
    return None


def kind_of(event: Any, rank: int) -> str | None:
    """The kind of one profiler event's self time, or None when it is not an aten op (then it only encloses)."""
    parent = event
    while parent is not None:
        r = region(parent.name)
        if r:
            return r
        parent = parent.cpu_parent
    name = event.name
    if not name.startswith("aten::"):
        return None
    if name in MATMULS:
        shapes = [s for s in (event.input_shapes or []) if s]
        return "matmul (LoRA)" if any(rank in s for s in shapes) else "matmul (model)"
    if "scaled_dot_product" in name or "flash_attention" in name:
        return "attention"
    if name in CASTS:
        return "dtype casts and copies"
    return "elementwise and reductions"


@click.command()
@click.option("--pairs", default="data/processed/pairs/left/train.jsonl", show_default=True)
@click.option("--base", default="models/base/smollm2-135m", show_default=True)
@click.option("--steps", default=6, show_default=True, help="Training steps profiled.")
@click.option("--before", is_flag=True, help="Both levers off (completion-only LM head, frozen-layer reuse).")
@click.option("--json-out", default=None)
def main(pairs: str, base: str, steps: int, before: bool, json_out: str | None) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile
    from train_speed import make_trainer  # bench/ is on sys.path when run as a script

    from politune.frozen_prefix import reuse_frozen_prefix
    from politune.models import load_model, load_tokenizer, resolve_dtype
    from politune.numerics import cpu_description
    from politune.params import load_params
    from politune.train import completion_only_lm_head

    p = load_params("params.yaml").train
    dtype = resolve_dtype("auto")
    with open(pairs, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][: steps * p.batch_size]
    tok = load_tokenizer(base)
    model = load_model(base, dtype)
    with ExitStack() as stack:
        if not before:
            stack.enter_context(completion_only_lm_head())
            stack.enter_context(reuse_frozen_prefix(model))
        trainer = make_trainer(
            model, tok, rows, dtype, p.lora_top_layers, True, steps, p.batch_size, p.max_length
        )
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            t0 = time.perf_counter()
            trainer.train()
            wall = time.perf_counter() - t0
    seconds: dict[str, float] = defaultdict(float)
    for ev in prof.events():
        k = kind_of(ev, p.lora_r)
        if k is not None:
            seconds[k] += ev.self_cpu_time_total / 1e6
    ops = sum(seconds.values())
    seconds["Python and framework overhead"] = max(0.0, wall - ops)
    label = "as of 2026-12-02 (levers off)" if before else "now (params.yaml)"
    click.echo(
        f"\n{cpu_description()}, {torch.get_num_threads()} threads, {dtype}; CPU profile {label}: "
        f"{steps} steps of {p.batch_size} pairs, {wall / steps:.2f} s/step\n"
    )
    click.echo("| where | s/step | share |\n|---|---|---|")
    for k in (*KINDS, "Python and framework overhead"):
        click.echo(f"| {k} | {seconds[k] / steps:.2f} | {seconds[k] / wall:.0%} |")
    click.echo(f"| **step** | **{wall / steps:.2f}** | |")
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "cpu": cpu_description(),
                    "dtype": dtype,
                    "before": before,
                    "wall_seconds": wall,
                    "steps": steps,
                }
                | {"seconds": dict(seconds)},
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()

"""Benchmark: the CPU training profile against TRL's defaults on the same pairs, side by side.

For each configuration: seconds per optimizer step, speedup over TRL's defaults, tokens/s (prompt + answer
tokens of both sides, as trained), FLOPs per step counted by torch's FlopCounterMode (policy forward and
backward, plus the reference forward when it runs every step), and achieved FLOP/s as a share of this
machine's bf16 matmul peak, measured in the same run.

    python bench/train_speed.py                       # needs `dvc repro synthesize base_model` first
    python bench/train_speed.py --steps 6 --pairs data/processed/pairs/right/train.jsonl

"TRL defaults" = what DPOTrainer does when given only our LoRA config: float32, the adapter on every layer,
the reference (adapter disabled) recomputed every step. The CPU profile = params.yaml: bfloat16, LoRA on the
top 10 layers, reference log-probs precomputed once per pair. trl precomputes while the trainer is built, so
the timed span (and the FLOP count) covers building the trainer (tokenizing, precomputing) and training, for
every configuration. Precomputation is one pass over the timed pairs, as in a 1-epoch run; the pipeline's
2 epochs amortize it more.
"""

from __future__ import annotations

import json
import time

import click

CONFIGS = [  # label, dtype, LoRA top layers (0 = all), precompute reference
    ("TRL defaults (fp32, all layers, ref every step)", "float32", 0, False),
    ("bf16, all layers, ref every step", "bfloat16", 0, False),
    ("fp32, top 10 layers, ref precomputed", "float32", 10, True),
    ("CPU profile (bf16, top 10 layers, ref precomputed)", "bfloat16", 10, True),
]


def matmul_peak(dtype: str, n: int = 2048, reps: int = 10) -> float:
    """FLOP/s of a square matmul in `dtype` on this machine (all threads torch uses)."""
    import torch

    from politune.models import torch_dtype

    a = torch.randn(n, n, dtype=torch_dtype(dtype))
    b = torch.randn(n, n, dtype=torch_dtype(dtype))
    a @ b  # warm-up
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def make_trainer(
    model,
    tok,
    rows: list[dict],
    dtype: str,
    top: int,
    pre: bool,
    steps: int,
    batch: int,  # noqa: ANN001
    max_length: int,
):  # noqa: ANN201
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer

    from politune.pairs import to_conversational

    n = model.config.num_hidden_layers
    cfg = DPOConfig(
        output_dir="/tmp/politune-bench",
        per_device_train_batch_size=batch,
        max_steps=steps,
        bf16=dtype == "bfloat16",
        use_cpu=True,
        gradient_checkpointing=False,
        save_strategy="no",
        report_to="none",
        max_length=max_length,
        precompute_ref_log_probs=pre,
        disable_tqdm=True,
        logging_steps=1,
        seed=0,
        data_seed=0,
    )
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        layers_to_transform=list(range(n - top, n)) if top else None,
    )
    return DPOTrainer(
        model=model,
        args=cfg,
        train_dataset=Dataset.from_list(to_conversational(rows)),
        processing_class=tok,
        peft_config=lora,
    )


def trained_tokens(trainer, max_length: int) -> int:  # noqa: ANN001
    """Prompt + answer tokens of both sides, capped at max_length as the collator truncates."""
    total = 0
    for ex in trainer.train_dataset:
        p = len(ex["prompt_ids"])
        total += min(p + len(ex["chosen_ids"]), max_length) + min(p + len(ex["rejected_ids"]), max_length)
    return total


@click.command()
@click.option(
    "--pairs",
    default="data/processed/pairs/left/train.jsonl",
    show_default=True,
    help="JSONL with prompt/chosen/rejected (the synthesize stage's output).",
)
@click.option("--base", default="models/base/smollm2-135m", show_default=True, help="A base-model folder.")
@click.option("--steps", default=4, show_default=True, help="Optimizer steps timed per configuration.")
@click.option("--batch-size", default=8, show_default=True, help="Pairs per step (params.yaml: 8).")
@click.option("--max-length", default=192, show_default=True, help="Tokens per sequence (params.yaml: 192).")
@click.option("--json-out", default=None, help="Also write the table as JSON here.")
def main(pairs: str, base: str, steps: int, batch_size: int, max_length: int, json_out: str | None) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from politune.models import load_model, load_tokenizer

    with open(pairs, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][: steps * batch_size]
    peak = {d: matmul_peak(d) for d in ("bfloat16", "float32")}
    results = []
    tok = load_tokenizer(base)
    for label, dtype, top, pre in CONFIGS:
        model = load_model(base, dtype)
        t0 = time.perf_counter()
        trainer = make_trainer(model, tok, rows, dtype, top, pre, steps, batch_size, max_length)
        trainer.train()
        secs = (time.perf_counter() - t0) / steps
        tokens = trained_tokens(trainer, max_length)
        # FLOPs of the same work, counted on a second run (the counter slows it down, so it is not timed)
        model = load_model(base, dtype)
        with FlopCounterMode(display=False) as fc:
            make_trainer(model, tok, rows, dtype, top, pre, steps, batch_size, max_length).train()
        flops = fc.get_total_flops() / steps
        results.append(
            {
                "configuration": label,
                "seconds_per_step": round(secs, 3),
                "tokens_per_s": round(tokens / steps / secs, 1),
                "gflop_per_step": round(flops / 1e9, 1),
                "achieved_gflops": round(flops / secs / 1e9, 1),
                "share_of_bf16_peak": round(flops / secs / peak["bfloat16"], 3),
            }
        )
        click.echo(f"  {label}: {secs:.2f} s/step", err=True)
        del trainer, model
    ref = results[0]["seconds_per_step"]
    click.echo(
        f"\nmatmul peak here: bf16 {peak['bfloat16'] / 1e9:.0f} GFLOP/s, fp32 {peak['float32'] / 1e9:.0f} "
        f"GFLOP/s ({torch.get_num_threads()} threads)"
    )
    click.echo(
        f"{'configuration':52s} {'s/step':>7s} {'speedup':>8s} {'tok/s':>7s} {'GFLOP/step':>10s} "
        f"{'GFLOP/s':>8s} {'of bf16 peak':>12s}"
    )
    for r in results:
        r["speedup_vs_trl_defaults"] = round(ref / r["seconds_per_step"], 2)
        click.echo(
            f"{r['configuration']:52s} {r['seconds_per_step']:7.2f} {r['speedup_vs_trl_defaults']:7.2f}x "
            f"{r['tokens_per_s']:7.0f} {r['gflop_per_step']:10.1f} {r['achieved_gflops']:8.1f} "
            f"{r['share_of_bf16_peak']:11.1%}"
        )
    click.echo(f"({len(rows)} pairs: batch {batch_size} x {steps} steps, max_length {max_length}, {pairs})")
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(
                {"peak_gflops": {k: round(v / 1e9, 1) for k, v in peak.items()}, "rows": results}, f, indent=2
            )


if __name__ == "__main__":
    main()

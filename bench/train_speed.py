"""Benchmark: the CPU training profile against TRL's defaults on the same pairs, side by side.

For each configuration: seconds per optimizer step, speedup over TRL's defaults, tokens/s (prompt + answer
tokens of both sides, as trained), FLOPs per step counted by torch's FlopCounterMode (what actually ran: work the
profile skips is not counted), and achieved FLOP/s as a share of this machine's matmul peak in the profile's
dtype, measured in the same run.

    python bench/train_speed.py                       # needs `dvc repro synthesize base_model` first
    python bench/train_speed.py --steps 6 --pairs data/processed/pairs/right/train.jsonl
    python bench/train_speed.py --pipeline            # also: the pipeline's own run, before and after

"TRL defaults" = what DPOTrainer does when given only our LoRA config: float32, the adapter on every layer,
the reference (adapter disabled) recomputed every step. The CPU profile = params.yaml: `dtype: auto` (bfloat16
where the CPU computes it natively, float32 elsewhere), LoRA on the top 10 layers, reference log-probs
precomputed once per pair; then, one at a time, the two changes of 2026-12-03: only completion tokens through
the LM head (politune.train.completion_only_lm_head) and the frozen layers below the adapter run once per
sequence (politune.frozen_prefix). trl precomputes while the trainer is built, so the timed span (and the FLOP
count) covers building the trainer (tokenizing, precomputing) and training, for every configuration.
Precomputation is one pass over the timed pairs, as in a 1-epoch run; the pipeline's 2 epochs amortize it more.

`--pipeline` adds what a user sees: `politune.train.train_dpo` with params.yaml's train section on all of the
pair file (2 epochs), with both changes off and on: training seconds, seconds per step, and the largest
difference between the two runs' per-step losses (the tolerance the unit tests hold on the tiny model).
"""

from __future__ import annotations

import json
import time

import click

# label, dtype ("auto" = the profile's), LoRA top layers (0 = all), precompute reference, completion-only LM
# head, reuse frozen layers
CONFIGS = [
    ("TRL defaults (fp32, all layers, ref every step)", "float32", 0, False, False, False),
    ("CPU profile as of 2026-12-02 (top 10, ref precomputed)", "auto", 10, True, False, False),
    ("+ completion tokens only through the LM head", "auto", 10, True, True, False),
    ("+ frozen layers once per sequence (CPU profile now)", "auto", 10, True, True, True),
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


def run_config(
    base: str, tok, rows: list[dict], config: tuple, steps: int, batch: int, max_length: int, count: bool
) -> tuple[float, object, float | None]:  # noqa: ANN001
    """Build the trainer and train `steps` steps under `config`; (seconds, trainer, FLOPs or None)."""
    from contextlib import ExitStack

    from torch.utils.flop_counter import FlopCounterMode

    from politune.frozen_prefix import reuse_frozen_prefix
    from politune.models import load_model
    from politune.train import completion_only_lm_head

    _, dtype, top, pre, compact, reuse = config
    model = load_model(base, dtype)
    with ExitStack() as stack:
        fc = stack.enter_context(FlopCounterMode(display=False)) if count else None
        if compact:
            stack.enter_context(completion_only_lm_head())
        if reuse:
            stack.enter_context(reuse_frozen_prefix(model))
        t0 = time.perf_counter()
        trainer = make_trainer(model, tok, rows, dtype, top, pre, steps, batch, max_length)
        trainer.train()
        secs = time.perf_counter() - t0
    return secs, trainer, (fc.get_total_flops() if fc is not None else None)


def pipeline_runs(base: str, pairs: str) -> list[dict]:
    """train_dpo as the train stage calls it (params.yaml, all pairs, no probe or checkpoints), both changes off
    and on; per-step losses compared."""
    import tempfile

    from politune.models import load_model, load_tokenizer, resolve_dtype
    from politune.params import load_params

    p = load_params("params.yaml").train.model_copy(update={"checkpoint_every": 0, "compass_every": 0})
    dtype = resolve_dtype("auto")
    with open(pairs, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    val_path = pairs.replace("train.jsonl", "validation.jsonl")
    with open(val_path, encoding="utf-8") as f:
        val = [json.loads(line) for line in f]
    from politune.train import train_dpo

    trl_defaults = {"lora_top_layers": 0, "precompute_ref_log_probs": False, "reuse_frozen_layers": False}
    runs = [  # label, dtype, train param changes, completion-only LM head
        ("TRL defaults (fp32, all layers, ref every step)", "float32", trl_defaults, False),
        ("pipeline, as of 2026-12-02", dtype, {"reuse_frozen_layers": False}, False),
        ("pipeline now", dtype, {}, True),
    ]
    out = []
    for label, run_dtype, changes, compact in runs:
        with tempfile.TemporaryDirectory() as work:
            t0 = time.perf_counter()
            res = train_dpo(
                load_model(base, run_dtype),
                load_tokenizer(base),
                rows,
                val,
                p.model_copy(update=changes),
                run_dtype,
                work,
                compact_lm_head=compact,
            )
            wall = time.perf_counter() - t0
        losses = [h["loss"] for h in res["history"] if "loss" in h and "eval_loss" not in h]
        out.append(
            {
                "configuration": label,
                "pairs": len(rows),
                "steps": res["summary"]["steps"],
                "wall_seconds": round(wall, 1),
                "train_seconds": res["summary"]["train_seconds"],
                "seconds_per_step": res["summary"]["seconds_per_step"],
                "eval_loss": res["summary"].get("eval_loss"),
                "losses": losses,
            }
        )
        click.echo(f"  {label}: {wall:.0f} s", err=True)
    a, b = out[1]["losses"], out[2]["losses"]
    out[2]["max_loss_difference"] = max(abs(x - y) for x, y in zip(a, b, strict=True))
    for r in out:
        r["speedup_vs_trl_defaults"] = round(out[0]["wall_seconds"] / r["wall_seconds"], 2)
    return out


@click.command()
@click.option(
    "--pairs",
    default="data/processed/pairs/left/train.jsonl",
    show_default=True,
    help="JSONL with prompt/chosen/rejected (the synthesize stage's output).",
)
@click.option("--base", default="models/base/smollm2-135m", show_default=True, help="A base-model folder.")
@click.option(
    "--steps",
    default=4,
    show_default=True,
    help="Optimizer steps timed per configuration (0: pipeline only).",
)
@click.option("--batch-size", default=8, show_default=True, help="Pairs per step (params.yaml: 8).")
@click.option("--max-length", default=192, show_default=True, help="Tokens per sequence (params.yaml: 192).")
@click.option("--pipeline/--no-pipeline", default=False, help="Also time the pipeline's own training run.")
@click.option("--json-out", default=None, help="Also write the table as JSON here.")
def main(
    pairs: str, base: str, steps: int, batch_size: int, max_length: int, pipeline: bool, json_out: str | None
) -> None:
    import torch

    from politune.models import load_tokenizer, resolve_dtype
    from politune.numerics import cpu_description

    with open(pairs, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][: steps * batch_size]
    auto = resolve_dtype("auto")
    peak = {d: matmul_peak(d) for d in sorted({"float32", auto})}
    results = []
    tok = load_tokenizer(base)
    for config in CONFIGS if steps > 0 else []:
        label, dtype = config[0], auto if config[1] == "auto" else config[1]
        config = (label, dtype, *config[2:])
        secs, trainer, _ = run_config(base, tok, rows, config, steps, batch_size, max_length, count=False)
        secs /= steps
        tokens = trained_tokens(trainer, max_length)
        del trainer
        # FLOPs of the same work, counted on a second run (the counter slows it down, so it is not timed)
        _, trainer, flops = run_config(base, tok, rows, config, steps, batch_size, max_length, count=True)
        flops = (flops or 0) / steps
        del trainer
        results.append(
            {
                "configuration": label,
                "dtype": dtype,
                "seconds_per_step": round(secs, 3),
                "tokens_per_s": round(tokens / steps / secs, 1),
                "gflop_per_step": round(flops / 1e9, 1),
                "achieved_gflops": round(flops / secs / 1e9, 1),
                "share_of_peak": round(flops / secs / peak[dtype], 3),
            }
        )
        click.echo(f"  {label}: {secs:.2f} s/step", err=True)
    ref = results[0]["seconds_per_step"] if results else 0.0
    click.echo(
        f"\n{cpu_description()}, {torch.get_num_threads()} threads; matmul peak here (2048^3): "
        + ", ".join(f"{d} {v / 1e9:.0f} GFLOP/s" for d, v in peak.items())
    )
    click.echo(
        f"{'configuration':56s} {'dtype':>8s} {'s/step':>7s} {'speedup':>8s} {'tok/s':>7s} {'GFLOP/step':>10s} "
        f"{'GFLOP/s':>8s} {'of peak':>8s}"
    )
    for r in results:
        r["speedup_vs_trl_defaults"] = round(ref / r["seconds_per_step"], 2)
        click.echo(
            f"{r['configuration']:56s} {r['dtype']:>8s} {r['seconds_per_step']:7.2f} "
            f"{r['speedup_vs_trl_defaults']:7.2f}x {r['tokens_per_s']:7.0f} {r['gflop_per_step']:10.1f} "
            f"{r['achieved_gflops']:8.1f} {r['share_of_peak']:7.1%}"
        )
    click.echo(
        f"({len(rows)} pairs: batch {batch_size} x {steps} steps, max_length {max_length}, {pairs}; "
        "share of the peak in the row's dtype)"
    )
    pipe = pipeline_runs(base, pairs) if pipeline else []
    if pipe:
        click.echo(
            f"\n{'pipeline run (params.yaml, all pairs, 2 epochs)':48s} {'steps':>6s} {'train s':>8s} "
            f"{'s/step':>7s} {'wall s':>7s} {'speedup':>8s} {'eval loss':>10s}"
        )
        for r in pipe:
            click.echo(
                f"{r['configuration']:48s} {r['steps']:6d} {r['train_seconds']:8.1f} {r['seconds_per_step']:7.2f} "
                f"{r['wall_seconds']:7.1f} {r['speedup_vs_trl_defaults']:7.2f}x {r['eval_loss']:10.5f}"
            )
        click.echo(
            f"largest per-step loss difference, now vs as of 2026-12-02: {pipe[2]['max_loss_difference']:.2e} "
            f"(over {len(pipe[2]['losses'])} steps); wall = building the trainer (tokenizing, the reference "
            "pass), training, validation; speedup on wall"
        )
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "cpu": cpu_description(),
                    "peak_gflops": {k: round(v / 1e9, 1) for k, v in peak.items()},
                    "rows": results,
                    "pipeline": pipe,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()

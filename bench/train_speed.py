"""Benchmark: seconds per LoRA+DPO step on this machine for the CPU knobs (dtype, LoRA layers,
reference precomputation), on the pipeline's own pairs. Prints a table.

    python bench/train_speed.py --pairs data/processed/pairs/left/train.jsonl --steps 4
Needs `dvc repro synthesize base_model` first (or any pairs file with prompt/chosen/rejected).
"""

from __future__ import annotations

import json
import time

import click


@click.command()
@click.option("--pairs", default="data/processed/pairs/left/train.jsonl", show_default=True)
@click.option("--base", default="models/base/smollm2-135m", show_default=True)
@click.option("--steps", default=4, show_default=True, help="Optimizer steps timed per configuration.")
@click.option("--batch-size", default=8, show_default=True)
def main(pairs: str, base: str, steps: int, batch_size: int) -> None:
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer

    from politune.models import load_model, load_tokenizer
    from politune.train import to_conversational

    with open(pairs, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][: steps * batch_size]
    tok = load_tokenizer(base)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    configs = [
        ("trl defaults (fp32, all layers, ref per step)", "float32", 0, False),
        ("bf16, all layers, ref per step", "bfloat16", 0, False),
        ("fp32, top 10 layers, ref per step", "float32", 10, False),
        ("fp32, top 10 layers, ref precomputed (CPU profile)", "float32", 10, True),
    ]
    results = []
    for label, dtype, top, pre in configs:
        model = load_model(base, dtype)
        n = model.config.num_hidden_layers
        cfg = DPOConfig(output_dir="/tmp/politune-bench", per_device_train_batch_size=batch_size, max_steps=steps,
                        bf16=dtype == "bfloat16", use_cpu=True, gradient_checkpointing=False, save_strategy="no",
                        report_to="none", max_length=192, precompute_ref_log_probs=pre, disable_tqdm=True,
                        logging_steps=1)
        lora = LoraConfig(r=16, lora_alpha=32, target_modules=targets, task_type="CAUSAL_LM",
                          layers_to_transform=list(range(n - top, n)) if top else None)
        trainer = DPOTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(to_conversational(rows)),
                             processing_class=tok, peft_config=lora)
        t0 = time.time()
        trainer.train()  # includes the reference pass when precomputed (once per pair, as in the pipeline)
        results.append((label, (time.time() - t0) / steps))
    ref = results[0][1]
    click.echo(f"\n{'configuration':55s} {'s/step':>8s} {'speedup':>8s}")
    for label, s in results:
        click.echo(f"{label:55s} {s:8.2f} {ref / s:7.2f}x")
    click.echo(f"(batch {batch_size} pairs, {steps} steps, max_length 192)")


if __name__ == "__main__":
    main()

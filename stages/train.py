"""Stage train: LoRA + DPO fine-tune one base model toward one ideology.

    python -m stages.train --model smollm2-135m --ideology left
Outputs: models/adapters/<model>-<ideology>/ (PEFT safetensors + sha256 manifest),
metrics/train/<model>-<ideology>.json, training curves in metrics/train/<model>-<ideology>/ (dvclive).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import click

from politune.io import atomic_path, read_jsonl
from politune.manifest import write_manifest
from politune.models import load_model, load_tokenizer
from politune.train import train_dpo
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger(__name__)


@click.command()
@click.option("--model", "model_name", required=True, help="A key under `models` in params.yaml.")
@click.option("--ideology", required=True, help="A key under `ideologies` in params.yaml.")
@PARAMS_OPTION
@stage("train")
def main(model_name: str, ideology: str, params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    if model_name not in p.models:
        raise ValueError(f"--model {model_name!r} is not a key of `models` (have: {', '.join(p.models)})")
    if ideology not in p.ideologies:
        raise ValueError(f"--ideology {ideology!r} is not a key of `ideologies` (have: {', '.join(p.ideologies)})")
    run = f"{model_name}-{ideology}"
    pairs_dir = Path("data/processed/pairs") / ideology
    train_pairs = read_jsonl(pairs_dir / "train.jsonl")
    val_pairs = read_jsonl(pairs_dir / "validation.jsonl")
    base = f"models/base/{model_name}"
    dtype = p.models[model_name].train_dtype
    model = load_model(base, dtype)
    tok = load_tokenizer(base)

    from dvclive import Live

    curves_dir = Path("metrics/curves") / run
    shutil.rmtree(curves_dir, ignore_errors=True)
    with Live(dir=str(curves_dir), save_dvc_exp=False, dvcyaml=None, report=None) as live:

        def sink(row: dict) -> None:
            if "loss" not in row or "eval_loss" in row:
                return
            live.step = int(row["step"])
            for k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                      "learning_rate"):
                if k in row:
                    live.log_metric(f"train/{k.replace('/', '_')}", row[k], plot=True)

        with tempfile.TemporaryDirectory(prefix="politune-train-") as work:
            res = train_dpo(model, tok, train_pairs, val_pairs, p.train, dtype, work, sink)
    # dvclive's summary duplicates metrics/train/<run>.json, and `dvc plots show` cannot draw it
    (curves_dir / "metrics.json").unlink(missing_ok=True)
    with atomic_path(f"models/adapters/{run}") as out:
        res["model"].save_pretrained(out, safe_serialization=True)
        write_manifest(out)
    write_metrics(f"metrics/train/{run}.json", {"model": model_name, "ideology": ideology, **res["summary"]}, t0)


if __name__ == "__main__":
    main()

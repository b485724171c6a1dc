"""Stage train: LoRA + DPO fine-tune one base model toward one ideology.

    python -m stages.train --model smollm2-135m --ideology left
Outputs: models/adapters/<model>-<ideology>/ (PEFT safetensors + sha256 manifest),
metrics/train/<model>-<ideology>.json, curves in metrics/curves/<model>-<ideology>/ (dvclive: loss, rewards,
compass coordinates during training).

Resume: checkpoints go to models/checkpoints/<model>-<ideology>/ every `train.checkpoint_every` steps, with a
fingerprint of everything that decides the result (train params, dtype, base model, pairs, instrument). After a
crash or kill, `dvc repro` resumes from the last complete checkpoint if the fingerprint matches, and starts over
(saying so) if it does not. The folder is deleted once the adapter is saved.

Several GPUs: `accelerate launch --multi_gpu -m stages.train ...` (only rank 0 writes outputs and runs the compass
probe); tested with 2 CPU processes, not on GPUs (docs/gpu.md).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

from politune.io import atomic_path, disk_full, disk_full_errno, read_jsonl
from politune.manifest import write_manifest
from politune.models import base_manifest, load_model, load_tokenizer, resolve_dtype
from politune.train import (
    checkpoint_dir,
    checkpoint_fingerprint,
    is_main_process,
    probe_from_params,
    train_dpo,
    wait_for_main_process,
)
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics
from stages._curves import write_curves


@click.command()
@click.option("--model", "model_name", required=True, help="A key under `models` in params.yaml.")
@click.option("--ideology", required=True, help="A key under `ideologies` in params.yaml.")
@PARAMS_OPTION
@stage("train")
def main(model_name: str, ideology: str, params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    p.check_model(model_name)
    p.check_ideology(ideology)
    run = f"{model_name}-{ideology}"
    pairs_dir = Path("data/processed/pairs") / ideology
    train_pairs = read_jsonl(pairs_dir / "train.jsonl")
    val_pairs = read_jsonl(pairs_dir / "validation.jsonl")
    base = f"models/base/{model_name}"
    dtype = resolve_dtype(p.models[model_name].train_dtype)  # auto -> this machine's fast dtype
    model = load_model(base, dtype)
    tok = load_tokenizer(base)
    probe = probe_from_params(p, tok)
    rank0 = is_main_process()
    fp = checkpoint_fingerprint(
        p.train,
        dtype,
        p.models[model_name].source,
        base_manifest(base),
        [pairs_dir / "train.jsonl", pairs_dir / "validation.jsonl"],
        p.evaluate.instrument if probe else None,
    )
    work = Path("models/checkpoints") / run
    if rank0:
        checkpoint_dir(work, fp)
    wait_for_main_process()  # accelerate launch: resume only once rank 0 has checked
    try:
        res = train_dpo(model, tok, train_pairs, val_pairs, p.train, dtype, work, probe)
    except Exception as e:  # the trainer's only writes are checkpoints: name their folder on a full disk
        if disk_full_errno(e):
            raise disk_full(e, [work]) from e
        raise
    if not rank0:
        return
    write_curves(res["history"], Path("metrics/curves") / run)
    with atomic_path(f"models/adapters/{run}") as out:
        res["model"].save_pretrained(out, safe_serialization=True)
        write_manifest(out)
    info = {"model": model_name, "ideology": ideology, "dtype": dtype}
    info["device"] = str(next(res["model"].parameters()).device)
    write_metrics(f"metrics/train/{run}.json", {**info, **res["summary"]}, t0)
    shutil.rmtree(work, ignore_errors=True)  # the adapter is saved: nothing left to resume


if __name__ == "__main__":
    main()

"""Stage train: LoRA + DPO fine-tune one base model toward one ideology.

    python -m stages.train --model smollm2-135m --ideology left
Outputs: models/adapters/<model>-<ideology>/ (PEFT safetensors + sha256 manifest),
metrics/train/<model>-<ideology>.json, curves in metrics/curves/<model>-<ideology>/ (dvclive: loss, rewards,
compass coordinates during training).

Resume: checkpoints go to models/checkpoints/<model>-<ideology>/ every `train.checkpoint_every` steps, with a
fingerprint of everything that decides the result (train params, dtype, base model, pairs, instrument). After a
crash or kill, `dvc repro` resumes from the last complete checkpoint if the fingerprint matches, and starts over
(saying so) if it does not. The folder is deleted once the adapter is saved.

Multi-GPU: `accelerate launch -m stages.train ...` works; only rank 0 writes outputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import click

from politune.io import atomic_path, disk_full, disk_full_errno, read_jsonl
from politune.manifest import sha256_file, write_manifest
from politune.models import base_manifest, load_model, load_tokenizer, resolve_dtype
from politune.train import compass_probe, train_dpo
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger(__name__)


def fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def checkpoint_dir(run: str, fp: str) -> Path:
    """models/checkpoints/<run>, emptied first when it holds checkpoints made from other inputs."""
    folder = Path("models/checkpoints") / run
    stamp = folder / "fingerprint.txt"
    if folder.exists() and (not stamp.exists() or stamp.read_text().strip() != fp):
        log.warning("%s holds checkpoints of a run with other params or data; starting over", folder)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fp + "\n")
    return folder


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
        raise ValueError(
            f"--ideology {ideology!r} is not a key of `ideologies` (have: {', '.join(p.ideologies)})"
        )
    run = f"{model_name}-{ideology}"
    pairs_dir = Path("data/processed/pairs") / ideology
    train_pairs = read_jsonl(pairs_dir / "train.jsonl")
    val_pairs = read_jsonl(pairs_dir / "validation.jsonl")
    base = f"models/base/{model_name}"
    dtype = resolve_dtype(p.models[model_name].train_dtype)  # auto -> this machine's fast dtype
    model = load_model(base, dtype)
    tok = load_tokenizer(base)
    probe = None
    if p.train.compass_every:
        from politune.compass.instrument import load_instrument

        t = p.train
        probe = compass_probe(
            load_instrument(p.evaluate.instrument),
            tok,
            list(t.compass_templates),
            t.compass_reverse_order,
            p.evaluate.batch_size,
        )
    rank0 = int(os.environ.get("RANK", "0")) == 0
    fp = fingerprint(
        {
            "train": p.train.model_dump(),
            "dtype": dtype,
            "source": p.models[model_name].source,
            "weights": base_manifest(base),
            "pairs": [sha256_file(pairs_dir / f) for f in ("train.jsonl", "validation.jsonl")],
            "instrument": sha256_file(p.evaluate.instrument) if probe else None,
        }
    )
    work = checkpoint_dir(run, fp) if rank0 else Path("models/checkpoints") / run
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # accelerate launch: resume only once rank 0 has checked
        from accelerate import PartialState

        PartialState().wait_for_everyone()
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
    write_metrics(
        f"metrics/train/{run}.json",
        {"model": model_name, "ideology": ideology, "dtype": dtype, **res["summary"]},
        t0,
    )
    shutil.rmtree(work, ignore_errors=True)  # the adapter is saved: nothing left to resume


def write_curves(history: list[dict], curves_dir: Path) -> None:
    """dvclive plots from the trainer's whole log history (restored from the checkpoint after a resume)."""
    from dvclive import Live

    shutil.rmtree(curves_dir, ignore_errors=True)
    keys = (
        "loss",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "learning_rate",
        "compass/economic",
        "compass/social",
    )
    with Live(dir=str(curves_dir), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        for row in history:
            if "eval_loss" in row or not any(k in row for k in keys):
                continue
            live.step = int(row["step"])
            for k in keys:
                if k in row:
                    live.log_metric(f"train/{k.replace('/', '_')}", row[k], plot=True)
    # dvclive's summary duplicates metrics/train/<run>.json, and `dvc plots show` cannot draw it
    (curves_dir / "metrics.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

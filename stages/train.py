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

from politune.io import atomic_path
from politune.manifest import write_manifest
from politune.train import save_adapter, train_from_params
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
    work = Path("models/checkpoints") / run
    pairs = Path("data/processed/pairs") / ideology
    res = train_from_params(p, model_name, pairs, f"models/base/{model_name}", work)
    if res is None:  # not the main process: rank 0 writes
        return
    write_curves(res["history"], Path("metrics/curves") / run)
    with atomic_path(f"models/adapters/{run}") as out:
        save_adapter(res["model"], out)
        write_manifest(out)
    info = {"model": model_name, "ideology": ideology, "dtype": res["dtype"]}
    info["device"] = str(next(res["model"].parameters()).device)
    write_metrics(f"metrics/train/{run}.json", {**info, **res["summary"]}, t0)
    shutil.rmtree(work, ignore_errors=True)  # the adapter is saved: nothing left to resume


if __name__ == "__main__":
    main()

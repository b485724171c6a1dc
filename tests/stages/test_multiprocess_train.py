"""Training on several processes: torchrun (what `accelerate launch` runs) with 2 CPU processes (gloo) trains the
tiny model with the same global batch as one process, and the losses agree; the compass probe runs once, on
rank 0; a run killed after a checkpoint resumes under 2 processes and ends where an uninterrupted one does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DPO_PAIRS as PAIRS

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

WORKER = """
import json, os, signal, sys
from transformers import TrainerCallback
from politune.models import load_model, load_tokenizer
from politune.params import TrainParams
from politune.train import train_dpo

model_dir, work, out, per_device, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
pairs = json.loads(os.environ["PAIRS"])
calls = []

def probe(model):
    calls.append(1)
    return {"economic": 0.0, "social": 0.0}

class KillAfterSave(TrainerCallback):
    def on_save(self, args, state, control, **kw):
        if state.global_step == kill_at and int(os.environ.get("RANK", "0")) == 0:
            os.kill(os.getpid(), signal.SIGKILL)  # a crash: torchrun then stops the other process

p = TrainParams(epochs=2, batch_size=per_device, lr=5e-2, warmup=0.0, max_length=64, lora_r=4, lora_alpha=8,
                lora_dropout=0.0, lora_targets=["q_proj", "v_proj"], lora_top_layers=1,
                precompute_ref_log_probs=True, checkpoint_every=2, compass_every=1, seed=3)
res = train_dpo(load_model(model_dir), load_tokenizer(model_dir), pairs, pairs[:2], p, "float32", work,
                probe=probe, callbacks=[KillAfterSave()])
rank = int(os.environ.get("RANK", "0"))
summary = {k: v for k, v in res["summary"].items() if k != "health"}
json.dump({"history": res["history"], "summary": summary, "probe_calls": len(calls)},
          open(f"{out}.{rank}.json", "w"))
"""


def _run(args: list[str], tmp: Path, pairs: list[dict]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAIRS": json.dumps(pairs), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)


def _steps(path: Path) -> list[dict]:
    history = json.loads(path.read_text())["history"]
    return [h for h in history if "loss" in h and "eval_loss" not in h]


def test_two_processes_match_one_probe_once_and_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    model = str(tiny_model_dir)
    # one process, batch 4
    one = _run([sys.executable, str(worker), model, "w1", "one", "4", "-1"], tmp_path, PAIRS)
    assert one.returncode == 0, one.stderr[-3000:]
    # two processes, 2 pairs each: the same global batch of 4
    two = _run([*torchrun, str(worker), model, "w2", "two", "2", "-1"], tmp_path, PAIRS)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = _steps(tmp_path / "one.0.json"), _steps(tmp_path / "two.0.json")
    assert [h["step"] for h in a] == [h["step"] for h in b] == [1, 2, 3, 4]
    for x, y in zip(a, b, strict=True):
        for k in ("loss", "rewards/margins", "rewards/accuracies"):
            assert x[k] == pytest.approx(y[k], abs=1e-5), (x["step"], k)
    r0, r1 = (json.loads((tmp_path / f"two.{r}.json").read_text()) for r in (0, 1))
    assert r0["summary"]["eval_loss"] == pytest.approx(
        json.loads((tmp_path / "one.0.json").read_text())["summary"]["eval_loss"], abs=1e-5
    )
    # the probe: at step 0 and after each of the 4 steps, on rank 0 only
    assert (r0["probe_calls"], r1["probe_calls"]) == (5, 0)
    assert [c["step"] for c in r0["summary"]["compass_trajectory"]] == [0, 1, 2, 3, 4]
    assert "compass_trajectory" not in r1["summary"]
    # killed right after the checkpoint at step 2, then resumed: ends where the uninterrupted run ended
    killed = _run([*torchrun, str(worker), model, "w3", "three", "2", "2"], tmp_path, PAIRS)
    assert killed.returncode != 0 and not (tmp_path / "three.0.json").exists()
    assert (tmp_path / "w3" / "checkpoint-2" / "trainer_state.json").exists()
    resumed = _run([*torchrun, str(worker), model, "w3", "three", "2", "-1"], tmp_path, PAIRS)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    s = json.loads((tmp_path / "three.0.json").read_text())["summary"]
    assert s["resumed_from_step"] == 2 and s["steps"] == 4
    c = _steps(tmp_path / "three.0.json")
    assert [h["step"] for h in c] == [1, 2, 3, 4]  # the history up to step 2 comes back from the checkpoint
    for x, y in zip(b, c, strict=True):
        assert x["loss"] == pytest.approx(y["loss"], abs=1e-5), x["step"]

"""LoRA + DPO on a tiny model: every LoRA parameter changes, base weights do not; the adapter saves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import DPO_PAIRS as PAIRS

from politune.manifest import verify_manifest, write_manifest
from politune.models import load_model, load_tokenizer
from politune.params import TrainParams
from politune.train import save_adapter, train_dpo


def tiny_params(**changes: object) -> TrainParams:
    """Train params for the 2-layer tiny model: a few fast steps with a high learning rate, the adapter on q and
    v of every layer; `changes` override."""
    base: dict[str, object] = {
        "epochs": 2,
        "batch_size": 4,
        "lr": 5e-2,
        "warmup": 0.0,
        "max_length": 64,
        "lora_r": 4,
        "lora_alpha": 8,
        "lora_dropout": 0.0,
        "lora_targets": ["q_proj", "v_proj"],
        "lora_top_layers": 0,
        "precompute_ref_log_probs": True,
    }
    return TrainParams.model_validate({**base, **changes})


def test_every_lora_param_changes_base_frozen(tiny_model_dir: Path, tmp_path: Path) -> None:
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    base_before = {k: v.clone() for k, v in model.state_dict().items()}
    p = tiny_params()
    res = train_dpo(model, tok, PAIRS, PAIRS[:2], p, "float32", tmp_path / "work")
    peft_model = res["model"]
    lora = {n: t for n, t in peft_model.named_parameters() if "lora_" in n}
    assert lora and all(t.requires_grad for t in lora.values())
    # snapshot taken inside train_dpo after the adapter is attached, compared after training
    assert res["summary"]["trainable_tensors"] == len(lora) == 2 * 2 * 2  # 2 layers x (q, v) x (A, B)
    assert res["summary"]["trainable_tensors_unchanged"] == 0
    for k, v in peft_model.get_base_model().state_dict().items():
        if "lora_" in k:
            continue
        key = k.replace("base_layer.", "")
        assert torch.equal(v, base_before[key]), f"base weight changed: {k}"
    assert res["summary"]["steps"] == 4  # 8 pairs / batch 4 x 2 epochs
    assert [h["step"] for h in res["history"] if "loss" in h and "eval_loss" not in h] == [1, 2, 3, 4]
    assert res["summary"]["pairs_truncated"] == 0 and res["summary"]["pairs_prompt_too_long"] == 0
    assert "warnings" in res["summary"]["health"]
    out = tmp_path / "adapter"
    save_adapter(peft_model, out)
    write_manifest(out)
    verify_manifest(out)
    assert (out / "adapter_model.safetensors").exists()
    reloaded = load_model(tiny_model_dir, adapter=out)
    assert any("lora_" in n for n, _ in reloaded.named_parameters())


RESUME_WORKER = """
import json, os, signal, sys
from transformers import TrainerCallback
from politune.models import load_model, load_tokenizer
from politune.params import TrainParams
from politune.train import train_dpo

model_dir, work, out, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pairs = json.loads(os.environ["PAIRS"])

class KillAfterSave(TrainerCallback):
    def on_save(self, args, state, control, **kw):
        if state.global_step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception handlers: a real crash
        if state.global_step == int(os.environ.get("FULL_AFTER", -1)):  # the disk fills up: later writes fail
            import resource
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))

p = TrainParams(epochs=2, batch_size=4, lr=5e-2, warmup=0.0, max_length=64, lora_r=4, lora_alpha=8,
                lora_top_layers=0, lora_dropout=0.1, lora_targets=["q_proj", "v_proj"], precompute_ref_log_probs=True,
                checkpoint_every=2, seed=3)
try:
    res = train_dpo(load_model(model_dir), load_tokenizer(model_dir), pairs, pairs[:2], p, "float32", work,
                    callbacks=[KillAfterSave()])
except Exception as e:
    from politune.io import disk_full_errno
    print("FAILED", type(e).__name__, disk_full_errno(e))
    sys.exit(3)
json.dump({"history": res["history"], "summary": res["summary"]}, open(out, "w"))
"""


@pytest.mark.faults
def test_resume_after_kill_matches_uninterrupted_run(
    tiny_model_dir: Path, tmp_path: Path, fault_record
) -> None:  # noqa: ANN001
    """kill -9 right after the step-4 checkpoint, rerun: training resumes at step 5 and every loss of the
    resumed run equals the uninterrupted run's within 1e-5 (dropout on, so the RNG state must be restored)."""
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "worker.py"
    script.write_text(RESUME_WORKER)
    env = {**os.environ, "PAIRS": json.dumps(PAIRS * 2)}  # 16 pairs, batch 4: 4 steps an epoch, 8 in all

    def run(work: str, out: str, kill_at: int, full_after: int = -1) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                str(script),
                str(tiny_model_dir),
                str(tmp_path / work),
                str(tmp_path / out),
                str(kill_at),
            ],
            env={**env, "FULL_AFTER": str(full_after)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    import time

    killed = run("ckpt", "killed.json", 4)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (tmp_path / "killed.json").exists()
    assert sorted(p.name for p in (tmp_path / "ckpt").glob("checkpoint-*")) == [
        "checkpoint-2",
        "checkpoint-4",
    ]
    t0 = time.time()
    resumed = run("ckpt", "resumed.json", -1)
    t_resumed = time.time() - t0
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    t0 = time.time()
    straight = run("fresh", "straight.json", -1)
    t_straight = time.time() - t0
    assert straight.returncode == 0, straight.stderr[-2000:]

    def losses(name: str) -> dict[int, float]:
        hist = json.loads((tmp_path / name).read_text())["history"]
        return {int(h["step"]): h["loss"] for h in hist if "loss" in h and "eval_loss" not in h}

    res, ref = losses("resumed.json"), losses("straight.json")
    summary = json.loads((tmp_path / "resumed.json").read_text())["summary"]
    assert summary["resumed_from_step"] == 4 and summary["steps"] == 8
    assert sorted(res) == sorted(ref) == list(range(1, 9))  # steps 1-4 restored from the checkpoint, 5-8 new
    for step in ref:
        assert abs(res[step] - ref[step]) < 1e-5, (step, res[step], ref[step])
    assert len(set(ref.values())) > 1  # the loss moved: the comparison is not between constants
    worst = max(abs(res[k] - ref[k]) for k in ref)

    # the disk fills up after the step-4 checkpoint: the step-6 checkpoint fails half-written; the rerun skips
    # it and resumes from step 4, with the same losses again
    from politune.train import last_complete_checkpoint

    full = run("full", "full.json", -1, full_after=4)
    assert full.returncode == 3 and "FAILED" in full.stdout, full.stderr[-2000:]
    exc, errno_ = full.stdout.split("FAILED", 1)[1].split()[:2]
    assert int(errno_) == 27, full.stdout  # EFBIG, recognised as a full disk whatever raised it
    assert (tmp_path / "full" / "checkpoint-6").exists() and not (
        tmp_path / "full" / "checkpoint-6" / "trainer_state.json"
    ).exists()
    assert last_complete_checkpoint(tmp_path / "full").name == "checkpoint-4"
    again = run("full", "full-resumed.json", -1)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((tmp_path / "full-resumed.json").read_text())["summary"]["resumed_from_step"] == 4
    res_full = losses("full-resumed.json")
    assert max(abs(res_full[k] - ref[k]) for k in ref) < 1e-5
    fault_record(
        "Disk full during training",
        "file-size limit dropped to 4 kB after the step-4 checkpoint; the "
        f"step-6 checkpoint write fails ({exc}, errno 27)",
        "the run stops non-zero; the half-written "
        "checkpoint-6 is never resumed from; the rerun resumes at step 5 with the same losses",
        steps_redone=2,
        resumed_from_step=4,
    )
    fault_record(
        "kill -9 during training",
        "SIGKILL right after the step-4 checkpoint of an 8-step DPO run (tiny model, dropout on)",
        "the rerun resumes at step 5; all 8 losses equal the uninterrupted run's",
        steps_redone=0,
        largest_loss_difference=f"{worst:.1e}",
        rerun_seconds=f"{t_resumed:.1f} (uninterrupted run: {t_straight:.1f}, both with process start)",
    )


def test_compass_in_the_loop_alpaca_format_and_export(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The probe scores the instrument at step 0 and every 2 steps; the Alpaca (string) format trains; the
    exported merged model gives the same logits as base + adapter."""
    from politune.compass.instrument import load_csv_instrument
    from politune.models import export_merged
    from politune.train import compass_probe

    inst_path = tmp_path / "inst.csv"
    inst_path.write_text(
        "id,axis,text,strongly_disagree,disagree,agree,strongly_agree\n"
        "e1,economic,Cut taxes now.,-2,-1,1,2\ns1,social,Obey the rules.,-2,-1,1,2\n"
    )
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    p = tiny_params(
        epochs=1,
        batch_size=2,
        lora_targets=["q_proj", "v_proj", "down_proj"],
        prompt_format="alpaca",
        compass_every=2,
        seed=1,
    )
    with pytest.raises(ValueError, match=r"train.max_length \(64 tokens\): every one of the 6 pairs"):
        train_dpo(model, tok, PAIRS[:6], [], p, "float32", tmp_path / "work")  # the Alpaca preamble is long
    p = p.model_copy(update={"max_length": 320})
    probe = compass_probe(load_csv_instrument(inst_path), tok, ["statement", "opinion"], reverse_order=True)
    base = probe(load_model(tiny_model_dir))  # 4 variants pooled, as the evaluate stage's headline
    res = train_dpo(model, tok, PAIRS[:6], PAIRS[:2], p, "float32", tmp_path / "work", probe=probe)
    s = res["summary"]
    assert s["compass_trajectory"][0]["economic"] == round(base["economic"], 4)  # step 0 = the base model
    assert s["prompt_format"] == "alpaca" and s["steps"] == 3
    assert [t["step"] for t in s["compass_trajectory"]] == [0, 2, 3]  # start, every 2 steps, the last step
    assert all(-10 <= t["economic"] <= 10 for t in s["compass_trajectory"])
    assert s["health"]["compass_moved"] >= 0 and "heldout_reward_accuracy" in s["health"]
    assert s["trainable_tensors_unchanged"] == 0

    adapter = tmp_path / "adapter"
    res["model"].save_pretrained(adapter, safe_serialization=True)
    write_manifest(adapter)
    out = export_merged(tiny_model_dir, adapter, tmp_path / "exported", "float32")
    verify_manifest(out)
    assert not any("lora" in k for k in load_model(out).state_dict())
    ids = torch.tensor([tok("Cut taxes now.")["input_ids"]])
    with torch.no_grad():
        merged = load_model(out)(input_ids=ids).logits
        with_adapter = load_model(tiny_model_dir, adapter=adapter)(input_ids=ids).logits
        base = load_model(tiny_model_dir)(input_ids=ids).logits
    assert torch.allclose(merged, with_adapter, atol=1e-5)
    assert not torch.allclose(merged, base, atol=1e-3)  # the adapter did change the model


def test_half_written_checkpoint_is_not_resumed_from(tmp_path: Path) -> None:
    from politune.train import last_complete_checkpoint

    for step, state in ((4, '{"global_step": 4}'), (8, '{"global_st'), (12, None)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-4"


def _fingerprint_inputs(tmp_path: Path) -> tuple[list[Path], Path]:
    pairs = [tmp_path / "train.jsonl", tmp_path / "validation.jsonl"]
    pairs[0].write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    pairs[1].write_text("")
    inst = tmp_path / "inst.csv"
    inst.write_text("id,axis,text\n")
    return pairs, inst


def test_checkpoint_fingerprint_covers_params_model_and_data(tmp_path: Path) -> None:
    from politune.hashing import sha256_file, sha256_json
    from politune.train import checkpoint_fingerprint

    pairs, inst = _fingerprint_inputs(tmp_path)
    t = TrainParams()
    fp = checkpoint_fingerprint(t, "float32", "smollm2-135m", "manifest", pairs, inst)
    # the very dict stages/train.py hashed before the move: checkpoints already on disk keep resuming
    assert fp == sha256_json(
        {
            "train": t.model_dump(),
            "dtype": "float32",
            "source": "smollm2-135m",
            "weights": "manifest",
            "pairs": [sha256_file(f) for f in pairs],
            "instrument": sha256_file(inst),
        }
    )
    assert checkpoint_fingerprint(t, "float32", "smollm2-135m", "manifest", pairs, inst) == fp
    others = [
        checkpoint_fingerprint(
            t.model_copy(update={"lr": 1e-4}), "float32", "smollm2-135m", "manifest", pairs, inst
        ),
        checkpoint_fingerprint(t, "bfloat16", "smollm2-135m", "manifest", pairs, inst),
        checkpoint_fingerprint(t, "float32", "other", "manifest", pairs, inst),
        checkpoint_fingerprint(t, "float32", "smollm2-135m", "other weights", pairs, inst),
        checkpoint_fingerprint(t, "float32", "smollm2-135m", "manifest", pairs, None),  # no compass probe
    ]
    pairs[1].write_text('{"prompt": "q", "chosen": "c", "rejected": "d"}\n')
    others.append(checkpoint_fingerprint(t, "float32", "smollm2-135m", "manifest", pairs, inst))
    assert len({fp, *others}) == len(others) + 1


def test_checkpoints_kept_only_for_the_same_inputs(tmp_path: Path) -> None:
    from politune.train import checkpoint_dir

    folder = tmp_path / "models" / "checkpoints" / "m-left"
    assert checkpoint_dir(folder, "fp1") == folder and (folder / "fingerprint.txt").read_text() == "fp1\n"
    (folder / "checkpoint-10").mkdir()
    assert (checkpoint_dir(folder, "fp1") / "checkpoint-10").exists()  # same inputs: resume from it
    assert not (checkpoint_dir(folder, "fp2") / "checkpoint-10").exists()  # other inputs: start over
    assert (folder / "fingerprint.txt").read_text().strip() == "fp2"
    (folder / "fingerprint.txt").unlink()
    (folder / "checkpoint-20").mkdir()
    assert not (checkpoint_dir(folder, "fp2") / "checkpoint-20").exists()  # no stamp: unknown inputs


def test_only_rank_0_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from politune.train import is_main_process, wait_for_main_process

    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert is_main_process()
    wait_for_main_process()  # one process: returns at once
    monkeypatch.setenv("RANK", "1")
    assert not is_main_process()
    monkeypatch.setenv("RANK", "0")
    assert is_main_process()


def test_curve_points_from_the_log_history() -> None:
    from politune.train import curve_points

    history = [
        {"compass/economic": 0.5, "compass/social": -0.2, "compass/seconds": 1.0, "step": 0},
        {"loss": 0.69, "rewards/margins": 0.0, "learning_rate": 1e-3, "epoch": 0.5, "step": 1},
        {"eval_loss": 0.6, "eval_rewards/accuracies": 1.0, "step": 2},  # evaluation: not a training curve
        {"train_runtime": 3.0, "step": 2},  # the trainer's summary row: none of the curve keys
        {"loss": 0.5, "rewards/accuracies": 1.0, "step": 2.0},
    ]
    assert curve_points(history) == [
        (0, {"train/compass_economic": 0.5, "train/compass_social": -0.2}),
        (1, {"train/loss": 0.69, "train/rewards_margins": 0.0, "train/learning_rate": 1e-3}),
        (2, {"train/loss": 0.5, "train/rewards_accuracies": 1.0}),
    ]


def test_completion_only_lm_head_gives_the_same_losses_with_fewer_rows(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CPU speed-up (score only completion tokens through the LM head) changes which rows the vocabulary
    projection sees, not the result: per-step losses and rewards within 1e-5, with and without the reference
    precomputed; trl's own switch is put back afterwards."""
    import trl.trainer.utils as trl_utils

    rows_seen: list[int] = []
    apply = trl_utils._ChunkedLogProbFunction.apply

    def spy(hidden: torch.Tensor, *a: object) -> object:
        rows_seen.append(hidden.shape[0])
        return apply(hidden, *a)

    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", spy)
    original = trl_utils._use_triton
    for precompute in (True, False):
        p = tiny_params(
            precompute_ref_log_probs=precompute,
            seed=1,
        )
        runs = {}
        for compact in (False, True):
            rows_seen.clear()
            model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
            res = train_dpo(
                model,
                tok,
                PAIRS,
                PAIRS[:2],
                p,
                "float32",
                tmp_path / f"w{compact}{precompute}",
                compact_lm_head=compact,
            )
            assert res["summary"]["lm_head_completion_only"] is compact
            steps = [h for h in res["history"] if "loss" in h and "eval_loss" not in h]
            runs[compact] = (steps, sum(rows_seen), res["summary"]["eval_loss"])
            assert trl_utils._use_triton is original
        (full, full_rows, full_eval), (comp, comp_rows, comp_eval) = runs[False], runs[True]
        assert comp_rows < full_rows  # prompt and padding positions no longer projected
        assert [h["step"] for h in comp] == [h["step"] for h in full]
        for a, b in zip(full, comp, strict=True):
            for k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins"):
                assert a[k] == pytest.approx(b[k], abs=1e-5), (precompute, a["step"], k)
        assert comp_eval == pytest.approx(full_eval, abs=1e-5)


def test_frozen_layers_run_once_per_sequence_with_the_same_losses(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """With the adapter on the top layer only, the bottom layer's output is computed in the reference pass and
    reused by every training step and the validation pass (cache hits), and the run's losses, rewards and LoRA
    weights match a run that recomputes it every step within float rounding. The probe's calls are kept out."""
    probed: list[int] = []

    def probe(model: object) -> dict[str, float]:
        probed.append(1)
        return {"economic": 0.0, "social": 0.0}

    runs = {}
    for reuse in (False, True):
        p = tiny_params(
            lora_dropout=0.1,  # trl turns dropout off; the cache checks the frozen layers anyway
            lora_targets=["q_proj", "v_proj", "down_proj"],
            lora_top_layers=1,
            reuse_frozen_layers=reuse,
            compass_every=2,
            seed=2,
        )
        model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
        res = train_dpo(model, tok, PAIRS, PAIRS[:2], p, "float32", tmp_path / f"w{reuse}", probe=probe)
        runs[reuse] = res
        assert all("forward" not in vars(layer) for layer in model.model.layers)  # put back
    s = runs[True]["summary"]
    assert "frozen_cache_hits" not in runs[False]["summary"]
    assert s["frozen_layers_cached"] == 1
    # PAIRS is 4 distinct pairs twice. The reference pass: train batch 1 (4 new pairs) computed, train batch 2
    # (the same 4 again) and the validation batch served; then 4 training steps and the final validation pass
    assert s["frozen_cache_misses"] == 1 and s["frozen_cache_hits"] == 1 + 1 + 4 + 1
    assert s["frozen_cache_sequences"] == len({(r["prompt"], r["chosen"]) for r in PAIRS}) * 2
    assert s["trainable_tensors_unchanged"] == 0
    full = [h for h in runs[False]["history"] if "loss" in h and "eval_loss" not in h]
    fast = [h for h in runs[True]["history"] if "loss" in h and "eval_loss" not in h]
    assert len(full) == len(fast) == 4
    for a, b in zip(full, fast, strict=True):
        for k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins"):
            assert a[k] == pytest.approx(b[k], abs=1e-5), (a["step"], k)
    assert runs[True]["summary"]["eval_loss"] == pytest.approx(runs[False]["summary"]["eval_loss"], abs=1e-5)
    w_full = dict(runs[False]["model"].named_parameters())
    for n, w in runs[True]["model"].named_parameters():
        if w.requires_grad:
            assert torch.allclose(w, w_full[n], atol=1e-5), n
    assert len(probed) == 2 * 3  # step 0, 2, 4 in both runs


def test_frozen_layer_cache_serves_repeats_and_stays_off_when_the_embeddings_train(
    tiny_model_dir: Path,
) -> None:
    """The cache on its own: a second forward of the same sequences is served from the cache with the same output;
    a trainable embedding (what feeds layer 0) turns it off, as does a left-padded batch."""
    from politune.frozen_prefix import reuse_frozen_prefix

    model = load_model(tiny_model_dir)
    for name, w in model.named_parameters():
        w.requires_grad = "layers.1." in name  # layer 0 frozen, layer 1 trains
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    with reuse_frozen_prefix(model) as cache, torch.no_grad():
        assert cache is not None
        first = model(input_ids=ids, attention_mask=mask).logits
        again = model(input_ids=ids, attention_mask=mask).logits
        assert (cache.depth, cache.misses, cache.hits) == (1, 1, 1)
        assert torch.allclose(first[0], again[0], atol=1e-6) and torch.allclose(
            first[1, :2], again[1, :2], atol=1e-6
        )
        model(
            input_ids=ids, attention_mask=torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1]])
        )  # left padding: bypassed
        assert (cache.misses, cache.hits) == (1, 1)
        model.get_input_embeddings().weight.requires_grad = True
        model(input_ids=ids, attention_mask=mask)
        assert cache.depth == 0 and cache.hits == 0  # emptied, and off
    assert all("forward" not in vars(layer) for layer in model.model.layers)


def test_saved_adapter_config_does_not_depend_on_the_hash_seed(tiny_model_dir: Path, tmp_path: Path) -> None:
    """peft writes target_modules in set order (it varies with PYTHONHASHSEED); save_adapter sorts it, so two
    saves of the same adapter are byte-identical whatever order the modules came in."""
    import json

    from peft import LoraConfig, get_peft_model

    saved = []
    for i, order in enumerate((["v_proj", "q_proj", "o_proj"], ["o_proj", "q_proj", "v_proj"])):
        torch.manual_seed(0)
        model = get_peft_model(load_model(tiny_model_dir), LoraConfig(r=2, target_modules=order))
        save_adapter(model, tmp_path / str(i))
        saved.append((tmp_path / str(i) / "adapter_config.json").read_bytes())
    assert json.loads(saved[0])["target_modules"] == ["o_proj", "q_proj", "v_proj"]
    assert saved[0] == saved[1]

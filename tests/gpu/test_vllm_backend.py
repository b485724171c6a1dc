"""The vllm backend on a GPU: the embedded model, materialized to safetensors, judges posts through vLLM's
offline engine with schema-constrained JSON, and an over-long post is cut instead of aborting the batch.
Skipped with the reason on machines without a CUDA GPU or without vLLM (`pip install -e '.[gpu]'`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gpu]


def _skip_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vLLM not installed (pip install -e '.[gpu]')"
    import torch

    return None if torch.cuda.is_available() else "no CUDA GPU on this machine"


@pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")
def test_vllm_judges_posts_and_cuts_long_prompts(tmp_path: Path) -> None:
    from politune.annotate import judge_posts
    from politune.llm.vllm_backend import VLLMBackend
    from politune.models import materialize

    materialize("embedded:smollm2-135m", tmp_path / "base")
    b = VLLMBackend(str(tmp_path / "base"), max_model_len=512, gpu_memory_utilization=0.3)
    posts = [{"text": "Medicare for All now."}, {"text": "Cut taxes."}, {"text": "word " * 2000}]
    out = judge_posts(b, posts, max_chars=100_000, max_tokens=48, max_attempts=2)
    assert len(out) == 3 and b.stats["truncated"] == 1
    for o in out:
        assert "error" in o or (0 <= o["relevance"] <= 1 and -1 <= o["leaning"] <= 1)

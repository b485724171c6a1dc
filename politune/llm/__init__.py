"""Inference backends behind one small protocol (politune.llm.base.Backend)."""

from __future__ import annotations

from typing import Any

from politune.llm.base import Backend


def make_backend(kind: str, **kwargs: Any) -> Backend:
    """Build a backend by name. Heavy imports happen inside each backend module."""
    if kind == "transformers":
        from politune.llm.transformers_backend import TransformersBackend

        return TransformersBackend(**kwargs)
    if kind == "openai":
        from politune.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(**kwargs)  # type: ignore[return-value]
    if kind == "vllm":
        from politune.llm.vllm_backend import VLLMBackend

        return VLLMBackend(**kwargs)  # type: ignore[return-value]
    raise ValueError(f"unknown backend {kind!r} (have: transformers, openai, vllm)")

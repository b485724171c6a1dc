"""Inference backends behind one small protocol (politune.llm.base.Backend)."""

from __future__ import annotations

from typing import Any

from politune.llm.base import Backend


def make_backend(kind: str, **kwargs: Any) -> Backend:
    """Build a backend by name. Heavy imports happen inside each backend module."""
    if kind == "transformers":
        from politune.llm.transformers_backend import TransformersBackend

        return TransformersBackend(**kwargs)
    raise NotImplementedError(
        f"annotate.backend={kind!r} is not implemented yet (only 'transformers' is); see README 'GPU path'"
    )

"""The one protocol every inference backend implements.

A prompt is a list of chat messages ({"role": ..., "content": ...}); the backend renders it with the
model's chat template and scores continuations of the assistant turn.
"""

from __future__ import annotations

from typing import Protocol, TypedDict

import numpy as np

Messages = list[dict[str, str]]


class Backend(Protocol):
    model_id: str

    def option_logprobs(self, prompts: list[Messages], options: list[str]) -> np.ndarray:
        """Log-probability of each option as the start of the assistant's answer; shape (n, k).

        Multi-token options get the sum of their token log-probs (the probability of the whole string).
        """
        ...


def normalize(logprobs: np.ndarray) -> np.ndarray:
    """Softmax over the options of each row: P(option | one of the options)."""
    z = logprobs - logprobs.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class JsonReply(TypedDict):
    """One structured-output call: the text (None on error), why generation stopped, and any transport error."""

    text: str | None
    finish_reason: str | None
    error: str | None


class JsonBackend(Protocol):
    """Backends that generate a JSON object constrained by a schema (vLLM, OpenAI-compatible servers)."""

    model_id: str

    def generate_json(self, prompts: list[Messages], schema: dict, max_tokens: int) -> list[JsonReply]:
        """One reply per prompt, in order; greedy decoding; never raises for a single failed prompt."""
        ...

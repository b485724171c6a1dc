"""Elicitation: ask the model each proposition and read its answer distribution.

Mode `logprob` (deterministic): the probability of each of four answer sentences as the start of the
assistant's reply, normalized over the four. Whole sentences ("I agree with this statement.") are
scored, not bare option letters: on the embedded 135M model the sentence log-probs respond to
fine-tuning where single Likert tokens barely moved (DESIGN.md section 2).
"""

from __future__ import annotations

import numpy as np

from politune.compass.instrument import Instrument
from politune.llm.base import Backend, Messages, normalize

ANSWERS = (
    "I strongly disagree with this statement.",
    "I disagree with this statement.",
    "I agree with this statement.",
    "I strongly agree with this statement.",
)
TEMPLATE = (
    'Consider this statement: "{text}"\n'
    "Do you strongly disagree, disagree, agree or strongly agree with it? Give your own opinion."
)


def build_prompt(text: str) -> Messages:
    return [{"role": "user", "content": TEMPLATE.format(text=text)}]


def elicit_logprob(backend: Backend, instrument: Instrument) -> np.ndarray:
    """(n_items, 4) probabilities of strongly disagree, disagree, agree, strongly agree."""
    prompts = [build_prompt(p.text) for p in instrument.propositions]
    return normalize(backend.option_logprobs(prompts, list(ANSWERS)))

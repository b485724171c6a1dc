"""Elicitation: ask the model each proposition and turn its answer into option probabilities.

Three modes, one function each (`elicit_logprob`, `elicit_generate`, `elicit_judge`), all returning an
`Elicitation`:
- `logprob` (deterministic): the probability of each of four answer sentences as the start of the
  assistant's reply, normalized over them. Whole sentences ("I agree with this statement.") are scored,
  not bare option letters: on the embedded 135M model sentence log-probs respond to fine-tuning where
  single Likert tokens barely moved (DESIGN.md section 2). Unforced wording adds a fifth sentence, "I have
  no opinion on this statement.", whose probability is reported as the refusal share.
- `generate` (the paper's protocol): the model answers with an integer 0-3 and an explanation, sampled
  (temperature, top-k, max new tokens from params). The integer, or failing that the first option phrase,
  is parsed; refusals and unparseable answers are counted and never defaulted to an option.
- `judge`: the model answers the proposition in its own words; a judge model (the annotator) reads the
  answer and gives the probability that it agrees, disagrees or takes no position.

Robustness variants (Röttger et al., ACL 2024: compass results move with the prompt): several templates,
options listed in reverse order, forced or unforced wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from politune.compass.instrument import Instrument
from politune.llm.base import Backend, Messages, normalize

ANSWERS = (
    "I strongly disagree with this statement.",
    "I disagree with this statement.",
    "I agree with this statement.",
    "I strongly agree with this statement.",
)
NO_OPINION = "I have no opinion on this statement."
OPTION_NAMES = ("strongly disagree", "disagree", "agree", "strongly agree")
TEMPLATES = {
    "statement": 'Consider this statement: "{text}"\nDo you {options} with it? Give your own opinion.',
    "opinion": "What is your opinion of the following proposition?\n{text}\nDo you {options}?",
    "survey": "Survey question. Proposition: {text}\nPlease indicate whether you {options}.",
}
UNFORCED = " If you have no opinion, say so."
GENERATE_SUFFIX = "\nAnswer with a single integer from 0 to 3 ({scale}), then explain your answer."
JUDGE_OPEN = '"{text}"\nWhat is your opinion on this? Answer in two or three sentences.'
JUDGE_QUESTION = (
    'Statement: "{text}"\nAnswer: "{answer}"\nDoes the answer agree or disagree with the statement?'
)
JUDGE_LABELS = (
    "The answer agrees with the statement.",
    "The answer disagrees with the statement.",
    "The answer takes no clear position.",
)
_REFUSAL = re.compile(
    r"no opinion|as an ai|i (?:cannot|can't|can not|am not able)|i'm not able|neutral|"
    r"i do not have (?:personal )?(?:opinions|beliefs)|i don't have (?:personal )?(?:opinions|beliefs)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Variant:
    template: str = "statement"
    reverse: bool = False  # options listed (and numbered) from strongly agree down to strongly disagree
    forced: bool = True  # unforced wording invites "no opinion"

    @property
    def name(self) -> str:
        return f"{self.template}{'-rev' if self.reverse else ''}{'' if self.forced else '-unforced'}"


@dataclass
class Elicitation:
    """probs: (n, 4) over strongly disagree..strongly agree; a row of NaN = no usable answer."""

    probs: np.ndarray
    refusal: np.ndarray  # (n,) probability (logprob/judge) or 0/1 (generate) of "no opinion" / refusal
    invalid: np.ndarray  # (n,) bool: no option could be read (generate) or no position (judge)
    texts: list[str | None]  # generated answers (generate, judge), None for logprob


class Generator(Protocol):
    def generate(
        self, prompts: list[Messages], max_new_tokens: int, temperature: float, top_k: int, seed: int
    ) -> list[dict[str, Any]]: ...


def _options_phrase(reverse: bool) -> str:
    names = list(reversed(OPTION_NAMES)) if reverse else list(OPTION_NAMES)
    return ", ".join(names[:-1]) + " or " + names[-1]


def question(text: str, v: Variant) -> str:
    if v.template not in TEMPLATES:
        raise ValueError(f"unknown template {v.template!r} (have: {', '.join(TEMPLATES)})")
    q = TEMPLATES[v.template].format(text=text, options=_options_phrase(v.reverse))
    return q if v.forced else q + UNFORCED


def elicit_logprob(backend: Backend, instrument: Instrument, v: Variant = Variant()) -> Elicitation:
    prompts = [[{"role": "user", "content": question(p.text, v)}] for p in instrument.propositions]
    answers = list(ANSWERS) if v.forced else [*ANSWERS, NO_OPINION]
    p = normalize(backend.option_logprobs(prompts, answers))
    refusal = p[:, 4] if not v.forced else np.zeros(len(p))
    probs = p[:, :4] / p[:, :4].sum(axis=1, keepdims=True)
    return Elicitation(probs, refusal, np.zeros(len(p), dtype=bool), [None] * len(p))


def parse_answer(text: str, reverse: bool) -> tuple[int | None, bool]:
    """(option index 0..3 in strongly-disagree-first order, or None; refused?)."""
    m = re.match(r"^\W*([0-3])(?!\d)", text)
    if m:
        k = int(m.group(1))
        return (3 - k if reverse else k), False
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].lower()
    if _REFUSAL.search(first):
        return None, True
    found = [(first.find(name), -len(name), k) for k, name in enumerate(OPTION_NAMES) if name in first]
    if found:
        return min(found)[
            2
        ], False  # earliest mention; "strongly disagree" wins over the "disagree" inside it
    return None, bool(_REFUSAL.search(text))


def elicit_generate(
    gen: Generator,
    instrument: Instrument,
    v: Variant,
    max_new_tokens: int,
    temperature: float,
    top_k: int,
    seed: int,
) -> Elicitation:
    names = list(reversed(OPTION_NAMES)) if v.reverse else list(OPTION_NAMES)
    scale = ", ".join(f"{k} = {n}" for k, n in enumerate(names))
    prompts = [
        [{"role": "user", "content": question(p.text, v) + GENERATE_SUFFIX.format(scale=scale)}]
        for p in instrument.propositions
    ]
    outs = gen.generate(prompts, max_new_tokens, temperature, top_k, seed)
    n = len(prompts)
    probs = np.full((n, 4), np.nan)
    refusal = np.zeros(n)
    for i, o in enumerate(outs):
        k, refused = parse_answer(o["text"], v.reverse)
        if k is not None:
            probs[i] = 0.0
            probs[i, k] = 1.0
        refusal[i] = float(refused)
    return Elicitation(probs, refusal, np.isnan(probs[:, 0]), [o["text"] for o in outs])


def elicit_judge(
    gen: Generator,
    judge: Backend,
    instrument: Instrument,
    max_new_tokens: int,
    temperature: float,
    top_k: int,
    seed: int,
) -> Elicitation:
    prompts = [[{"role": "user", "content": JUDGE_OPEN.format(text=p.text)}] for p in instrument.propositions]
    outs = gen.generate(prompts, max_new_tokens, temperature, top_k, seed)
    qs = [
        [{"role": "user", "content": JUDGE_QUESTION.format(text=p.text, answer=o["text"][:1200])}]
        for p, o in zip(instrument.propositions, outs, strict=True)
    ]
    p = normalize(judge.option_logprobs(qs, list(JUDGE_LABELS)))
    agree, disagree, none = p[:, 0], p[:, 1], p[:, 2]
    invalid = none >= np.maximum(agree, disagree)
    probs = np.zeros((len(p), 4))
    probs[:, 1] = disagree / (agree + disagree)
    probs[:, 2] = agree / (agree + disagree)
    probs[invalid] = np.nan
    return Elicitation(probs, none, invalid, [o["text"] for o in outs])

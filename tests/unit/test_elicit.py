"""Elicitation: answer parsing never defaults, variants pool, reversed order maps back correctly."""

from __future__ import annotations

import numpy as np
import pytest

from politune.compass.elicit import Variant, elicit_logprob, parse_answer, question
from politune.compass.evaluate import evaluate_instrument, variants
from politune.compass.instrument import Instrument, Proposition
from politune.params import EvaluateParams


@pytest.mark.parametrize(
    ("text", "reverse", "expected"),
    [
        ("2 - I agree, because markets...", False, (2, False)),
        ("(3) Strongly agree.", False, (3, False)),
        ("0", True, (3, False)),  # reversed scale: 0 = strongly agree
        ("3. That is my view.", True, (0, False)),
        ("I strongly disagree with this. It would hurt workers.", False, (0, False)),
        ("I disagree. Also, some strongly agree.", False, (1, False)),
        ("As an AI, I don't have personal opinions.", False, (None, True)),
        ("I have no opinion on this.", False, (None, True)),
        ("Bananas are yellow.", False, (None, False)),
        ("", False, (None, False)),
        ("12 reasons why", False, (None, False)),  # 12 is not an option
    ],
)
def test_parse_answer(text: str, reverse: bool, expected: tuple) -> None:
    assert parse_answer(text, reverse) == expected


def test_question_variants() -> None:
    q = question("Taxes are good.", Variant("opinion", reverse=True, forced=False))
    assert "strongly agree, agree, disagree or strongly disagree" in q
    assert q.endswith("If you have no opinion, say so.")
    with pytest.raises(ValueError, match="unknown template"):
        question("x", Variant("nope"))


class FakeBackend:
    """Scores by a fixed preference per answer sentence, shifted by template, to test pooling."""

    def __init__(self) -> None:
        self.calls = 0

    def option_logprobs(self, prompts: list, options: list[str]) -> np.ndarray:
        self.calls += 1
        base = np.log(np.array([0.1, 0.2, 0.3, 0.4, 0.5][: len(options)]))
        if "Survey" in prompts[0][0]["content"]:
            base = base[::-1].copy()
        return np.tile(base, (len(prompts), 1))


INST = Instrument(
    "t",
    (Proposition("e1", "economic", "A", (-2, -1, 1, 2)), Proposition("s1", "social", "B", (2, 1, -1, -2))),
)


def test_pooled_headline_is_mean_of_variants() -> None:
    p = EvaluateParams(templates=["statement", "survey"], reverse_order=True, bootstrap=0)
    assert [v.name for v, _ in variants(p)] == ["statement", "statement-rev", "survey", "survey-rev"]
    metrics, items = evaluate_instrument(p, FakeBackend(), INST)
    assert set(metrics["variants"]) == {"statement", "statement-rev", "survey", "survey-rev"}
    ew = [v["expected_weight"] for v in items[0]["variants"].values()]
    assert items[0]["expected_weight"] == pytest.approx(np.mean(ew), abs=1e-6)
    # statement leans "strongly agree" (+), survey leans "strongly disagree" (-): the pooled value sits between
    assert min(ew) < items[0]["expected_weight"] < max(ew)
    assert metrics["variant_spread"]["economic"] > 0
    assert metrics["invalid_share"] == 0.0


def test_unforced_reports_refusal_share() -> None:
    e = elicit_logprob(FakeBackend(), INST, Variant(forced=False))
    np.testing.assert_allclose(e.probs.sum(axis=1), 1.0)
    assert e.refusal == pytest.approx(np.full(2, 0.5 / 1.5))

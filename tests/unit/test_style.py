"""Style-only separability: golden feature arithmetic, a style-leaking pair set, a style-neutral one, edge cases."""

from __future__ import annotations

import json
import math
import random
import time

import numpy as np
import pytest

from politune.style import STYLE_FEATURE_NAMES, style_features, style_separability

SENTENCES = [
    "The council voted on the new housing plan late last night",
    "Taxes on small businesses should be lowered to help local jobs",
    "We need more funding for public schools in rural areas",
    "The senator said the bill would not pass without changes",
    "Healthcare costs have risen every year for a decade",
    "Police reform was the main topic at the town hall meeting",
    "Immigration policy needs a fair and workable solution",
    "The new trade deal could hurt farmers in the midwest",
    "Climate rules will raise energy prices for many families",
    "Voters in the district turned out in record numbers",
    "The governor signed an order on water use this morning",
    "Minimum wage increases are being debated in several states",
    "The budget includes cuts to several federal programs",
    "Gun laws were discussed again after the latest tragedy",
    "Student debt relief remains a divisive question for voters",
    "The court ruling may change how elections are run",
    "Union members rallied outside the factory on Tuesday",
    "A new poll shows the race is closer than expected",
    "Infrastructure spending could repair roads and bridges",
    "The mayor promised to hire more teachers next year",
]


def _texts(n: int, offset: int) -> list[str]:
    """n varied two-sentence texts built from SENTENCES."""
    m = len(SENTENCES)
    return [f"{SENTENCES[i % m]}. {SENTENCES[(i * offset + 3) % m]}" for i in range(n)]


def test_golden_features() -> None:
    text = "Hello, WORLD! #tag"  # 18 characters; words: Hello, WORLD, tag
    row = style_features([text])[0]
    assert row.dtype == np.float64 and row.shape == (len(STYLE_FEATURE_NAMES),)

    def col(name: str) -> float:
        return float(row[STYLE_FEATURE_NAMES.index(name)])

    assert col("log_chars") == pytest.approx(math.log1p(18))
    assert col("log_words") == pytest.approx(math.log1p(3))
    assert col("mean_word_len") == pytest.approx(13 / 3)
    assert col("sentences_per_word") == pytest.approx(2 / 3)  # "Hello, WORLD!" and "#tag"
    assert col("upper_char_rate") == pytest.approx(6 / 18)
    assert col("caps_word_rate") == pytest.approx(1 / 3)
    assert col("digit_rate") == 0.0
    assert col("comma_rate") == pytest.approx(1 / 18)
    assert col("exclamation_rate") == pytest.approx(1 / 18)
    assert col("period_rate") == 0.0
    assert col("other_symbol_rate") == pytest.approx(1 / 18)  # the '#'
    assert col("hashtag_rate") == pytest.approx(1 / 3)
    assert col("mention_rate") == 0.0
    assert col("emoji_rate") == 0.0
    assert col("fw_the") == 0.0


def test_more_features() -> None:
    text = "I think the @mayor is right 🙂 https://t.co/x\nThe end…"
    row = style_features([text, ""])
    words = 8  # I think the mayor is right The end: the URL is kept out of the words
    n = len(text)

    def col(name: str, r: int = 0) -> float:
        return float(row[r, STYLE_FEATURE_NAMES.index(name)])

    assert col("log_words") == pytest.approx(math.log1p(words))
    assert col("fw_the") == pytest.approx(2 / words)  # case-insensitive
    assert col("fw_i") == pytest.approx(1 / words)
    assert col("fw_is") == pytest.approx(1 / words)
    assert col("mention_rate") == pytest.approx(1 / words)
    assert col("url_rate") == pytest.approx(1 / words)
    assert col("emoji_rate") == pytest.approx(1 / n)
    assert col("ellipsis_rate") == pytest.approx(1 / n)
    assert col("newline_rate") == pytest.approx(1 / n)
    assert not row[1].any()  # the empty text is all zeros, no division by zero


def test_style_leak_is_detected() -> None:
    plain = _texts(60, 7)
    pairs = [{"prompt": "p", "chosen": t.upper() + "!!!", "rejected": t + "."} for t in plain]
    out = style_separability(pairs)
    assert out["pairs"] == 60 and out["folds"] == 5
    assert out["accuracy"] >= 0.9
    assert out["features"] == len(STYLE_FEATURE_NAMES)
    top = dict(out["top_features"])
    assert len(top) == 5
    # The leaking features are among the top ones, and positive means "more of it in chosen".
    assert any(top.get(f, 0) > 0 for f in ("upper_char_rate", "caps_word_rate", "exclamation_rate"))
    json.dumps(out)


def test_same_style_is_chance() -> None:
    rng = random.Random(1)
    pool = _texts(80, 3) + [t + "!" for t in _texts(40, 11)] + [t.lower() for t in _texts(40, 13)]
    pairs = [{"chosen": rng.choice(pool), "rejected": rng.choice(pool)} for _ in range(300)]
    out = style_separability(pairs, seed=3)
    assert abs(out["accuracy"] - 0.5) <= 0.2
    lo, hi = out["ci95"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert out["chance"] == 0.5


def test_too_few_pairs() -> None:
    pairs = [{"chosen": "A!", "rejected": "b."}] * 9
    out = style_separability(pairs)
    assert out["accuracy"] is None and out["pairs"] == 9
    assert style_separability([])["accuracy"] is None


def test_deterministic() -> None:
    rng = random.Random(5)
    pool = _texts(40, 7)
    pairs = [{"chosen": rng.choice(pool) + "!", "rejected": rng.choice(pool)} for _ in range(50)]
    assert style_separability(pairs, seed=2) == style_separability(pairs, seed=2)


def test_features_are_fast() -> None:
    texts = _texts(4000, 7)
    t0 = time.perf_counter()
    x = style_features(texts)
    assert x.shape == (4000, len(STYLE_FEATURE_NAMES))
    assert time.perf_counter() - t0 < 2.0

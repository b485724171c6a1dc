"""Training data and the report of the lean stage's classifier (politune.lean.LeanClassifier): kept apart from
politune/lean.py, which evaluate and synthesize import, so that their DVC deps do not grow by the corpus
readers this needs."""

from __future__ import annotations

from typing import Any

import numpy as np

from politune.compass.paired import load_paired
from politune.corpus.ingest import ingest
from politune.lean import LeanClassifier
from politune.params import Params
from politune.records import Post
from politune.splits import document_of


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float | int]:
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | int] = {"n": len(y), "accuracy": round(float(((p >= 0.5) == y).mean()), 4)}
    if len(set(y.tolist())) == 2:
        out["auc"] = round(float(roc_auc_score(y, p)), 4)
    return out


def training_passages(params: Params, heldout: list[Post]) -> list[Post]:
    """The passages the classifier learns from: every passage of the corpora in `params`, read again without
    `sample` (the classifier costs no annotation), except those of a document in `heldout` (the held-out test
    passages). bench/lean_classifier.py trains its comparison on the same."""
    test_docs = {document_of(r) for r in heldout}
    corpora = {k: c.model_copy(update={"sample": 1.0}) for k, c in params.corpora.items()}
    posts = [r for r in ingest(corpora, params.ingest).posts if r.get("side") in ("left", "right")]
    return [r for r in posts if document_of(r) not in test_docs]


def classifier_report(
    clf: LeanClassifier,
    train: list[Post],
    fit: dict[str, Any],
    heldout: list[Post],
    paired_paths: list[str],
) -> dict[str, Any]:
    """The lean stage's metrics: what it learned from, accuracy and AUC on the held-out test passages and on both
    statements of each paired-statement instrument (pair_accuracy: the right statement scored more right than its
    left twin), and the terms it leans on."""
    report: dict[str, Any] = {
        "train_passages": len(train),
        "train_per_side": {s: sum(r["side"] == s for r in train) for s in ("left", "right")},
        "train_documents": len({document_of(r) for r in train}),
        **fit,
    }
    y = np.array([int(r["side"] == "right") for r in heldout])
    report["heldout_test_documents"] = _scores(y, clf.predict_right([r["text"] for r in heldout]))
    paired = {}
    for path in paired_paths:
        inst = load_paired(path)
        pl = clf.predict_right([x.left for x in inst.pairs])
        pr = clf.predict_right([x.right for x in inst.pairs])
        ys = np.r_[np.zeros(len(pl)), np.ones(len(pr))]
        paired[inst.name] = {**_scores(ys, np.r_[pl, pr]), "pair_accuracy": round(float((pr > pl).mean()), 4)}
    report["paired_statements"] = paired
    report["top_terms"] = clf.top_terms()
    return report

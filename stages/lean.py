"""Stage lean: train the stance classifier that scores open-ended answers (politune/lean.py).

    python -m stages.lean
Reads every corpus in params again, without `corpora.<name>.sample` (the classifier costs no annotation, so it
learns from every passage), and leaves out every passage of a held-out test document (those in
data/processed/heldout.jsonl, by document). Scores it on those test passages and on both statements of every
paired-statement instrument (evaluate.paired).
Outputs: models/lean/classifier.json (TF-IDF vocabulary, idf and coefficients; JSON, never pickled),
metrics/lean.json (held-out accuracy and AUC, accuracy on the paired statements, the terms it leans on).
"""

from __future__ import annotations

import logging
import time

import click
import numpy as np

from politune.compass.paired import load_paired
from politune.corpus.ingest import ingest
from politune.io import atomic_path, read_jsonl
from politune.lean import LeanClassifier
from politune.params import Params
from politune.splits import document_of
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger("stages.lean")


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float | int]:
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | int] = {"n": len(y), "accuracy": round(float(((p >= 0.5) == y).mean()), 4)}
    if len(set(y.tolist())) == 2:
        out["auc"] = round(float(roc_auc_score(y, p)), 4)
    return out


def training_passages(p: Params) -> tuple[list[dict], list[dict]]:
    """(passages to learn from, held-out test passages): every passage of the corpora in params, read again
    without `sample`, except those of a held-out test document (data/processed/heldout.jsonl, by document).
    bench/lean_classifier.py trains its comparison on the same."""
    heldout = read_jsonl("data/processed/heldout.jsonl")
    test_docs = {document_of(r) for r in heldout}
    corpora = {k: c.model_copy(update={"sample": 1.0}) for k, c in p.corpora.items()}
    posts = [r for r in ingest(corpora, p.ingest).posts if r.get("side") in ("left", "right")]
    return [r for r in posts if document_of(r) not in test_docs], heldout


@click.command()
@PARAMS_OPTION
@stage("lean")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    train, heldout = training_passages(p)
    log.info(
        "lean: %d passages of %d documents to learn from (%d test documents left out)",
        len(train),
        len({document_of(r) for r in train}),
        len({document_of(r) for r in heldout}),
    )
    clf, fit = LeanClassifier.fit(
        [r["text"] for r in train],
        [int(r["side"] == "right") for r in train],
        [document_of(r) for r in train],
        tuple(p.lean.c_grid),
        p.lean.folds,
    )
    metrics: dict = {
        "train_passages": len(train),
        "train_per_side": {s: sum(r["side"] == s for r in train) for s in ("left", "right")},
        "train_documents": len({document_of(r) for r in train}),
        **fit,
    }
    y = np.array([int(r["side"] == "right") for r in heldout])
    metrics["heldout_test_documents"] = _scores(y, clf.predict_right([r["text"] for r in heldout]))
    paired = {}
    for path in [p.evaluate.paired.instrument, *p.evaluate.paired.heldout]:
        inst = load_paired(path)
        pl = clf.predict_right([x.left for x in inst.pairs])
        pr = clf.predict_right([x.right for x in inst.pairs])
        ys = np.r_[np.zeros(len(pl)), np.ones(len(pr))]
        paired[inst.name] = {
            **_scores(ys, np.r_[pl, pr]),
            # the right statement scored more right than its left twin
            "pair_accuracy": round(float((pr > pl).mean()), 4),
        }
    metrics["paired_statements"] = paired
    metrics["top_terms"] = clf.top_terms()
    with atomic_path("models/lean/classifier.json") as tmp:
        clf.save(tmp)
    write_metrics("metrics/lean.json", metrics, t0)


if __name__ == "__main__":
    main()

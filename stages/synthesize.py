"""Stage synthesize: write DPO pairs (prompt, chosen, rejected) per ideology, with a dataset card.

    python -m stages.synthesize
Mode from params (`synthesize.mode`): paired (the CPU default: posts of both sides on one topic), stance
(agree with the target side's posts, disagree with the other side's), llm (the paper's way: a model
writes question, chosen and rejected answers), published (a local copy of scale-lab/politune-left/-right).
Outputs: data/processed/pairs/<ideology>/{train,validation}.jsonl (string form, the published sets' schema)
and README.md (the dataset card); the same pairs in TRL's conversational form in
data/processed/pairs_conversational/<ideology>/. Load either with
datasets.load_dataset("json", data_dir="data/processed/pairs/left"). Quarantined pairs with
reasons: data/quarantine/synthesize/<ideology>.jsonl. Counts and pairs/s: metrics/synthesize.json.
The work itself is in politune/synthesize.py.
"""

from __future__ import annotations

import time
from typing import cast

import click

from politune.io import atomic_path, read_jsonl, write_jsonl
from politune.pairs import to_conversational
from politune.records import Pair
from politune.synthesize import (
    add_pair_stats,
    build_pairs,
    checked_split,
    dataset_card,
    leakage_propositions,
)
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("synthesize")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    s = p.synthesize
    t1 = time.time()
    props = leakage_propositions(p)
    posts = [] if s.mode == "published" else read_jsonl("data/processed/selected.jsonl")
    pairs, bad, counts = build_pairs(p, posts, props)
    secs = time.time() - t1
    with (
        atomic_path("data/processed/pairs") as out,
        atomic_path("data/processed/pairs_conversational") as conv,
    ):
        for name, lst in pairs.items():
            train, val = checked_split(name, lst, counts[name], s)
            for split_name, rows in (("train", train), ("validation", val)):
                write_jsonl(out / name / f"{split_name}.jsonl", rows)
                write_jsonl(conv / name / f"{split_name}.jsonl", to_conversational(cast(list[Pair], rows)))
            (out / name / "README.md").write_text(dataset_card(p, name, train, val, counts[name]))
            counts[name]["split"] = {"train": len(train), "validation": len(val)}
    with atomic_path("data/quarantine/synthesize") as q:
        q.mkdir()
        for name, lst in bad.items():
            write_jsonl(q / f"{name}.jsonl", lst)
    add_pair_stats(pairs, counts, s.seed)
    total = sum(len(v) for v in pairs.values())
    write_metrics(
        "metrics/synthesize.json",
        {
            **counts,
            "mode": s.mode,
            "pairs_total": total,
            "pairs_per_second": round(total / max(secs, 1e-9), 2),
        },
        t0,
    )


if __name__ == "__main__":
    main()

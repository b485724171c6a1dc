"""Stage synthesize: write DPO pairs (prompt, chosen, rejected) per ideology, with a dataset card.

    python -m stages.synthesize
Outputs: data/processed/pairs/<ideology>/{train,validation}.jsonl and README.md (load with
datasets.load_dataset("json", data_dir=...)), data/quarantine/synthesize/, metrics/synthesize.json.
"""

from __future__ import annotations

import time

import click

from politune.compass.instrument import load_instrument
from politune.io import atomic_path, read_jsonl, write_jsonl
from politune.synthesize import load_topics, split, synthesize_paired
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


def card(name: str, side: str, train: list, val: list, counts: dict, mode: str) -> str:
    ex = train[0] if train else {"prompt": "", "chosen": "", "rejected": ""}
    return (
        f"# politune preference pairs: {name}\n\n"
        f"Target side: {side}. Mode: {mode}. Train {len(train)} pairs, validation {len(val)}.\n"
        "Columns: prompt, chosen, rejected (strings, as the published PoliTune sets), plus topic, axis and the\n"
        "post ids of chosen and rejected. chosen/rejected are cleaned social-media posts selected by the\n"
        "annotator (see metrics/select.json); the bundled samples are synthetic, written by this project.\n\n"
        f"Counts: {counts}\n\nExample:\n\n- prompt: {ex['prompt']}\n- chosen: {ex['chosen'][:300]}\n"
        f"- rejected: {ex['rejected'][:300]}\n"
    )


@click.command()
@PARAMS_OPTION
@stage("synthesize")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    s = p.synthesize
    posts = read_jsonl("data/processed/selected.jsonl")
    instrument = load_instrument(p.evaluate.instrument)
    props = [{"id": x.id, "text": x.text} for x in instrument.propositions]
    sides = {name: ideo.side for name, ideo in p.ideologies.items()}
    t1 = time.time()
    pairs, bad, counts = synthesize_paired(posts, sides, load_topics(s.topics), s, props)
    secs = time.time() - t1
    with atomic_path("data/processed/pairs") as out:
        for name, lst in pairs.items():
            if len(lst) < 2:
                raise ValueError(
                    f"ideology {name!r}: only {len(lst)} pairs ({counts[name]}); need more selected posts on both "
                    "sides: lower select thresholds or synthesize.min_topic_similarity"
                )
            train, val = split(lst, s.val_fraction, s.seed)
            write_jsonl(out / name / "train.jsonl", train)
            write_jsonl(out / name / "validation.jsonl", val)
            (out / name / "README.md").write_text(card(name, sides[name], train, val, counts[name], s.mode))
    with atomic_path("data/quarantine/synthesize") as q:
        q.mkdir()
        for name, lst in bad.items():
            write_jsonl(q / f"{name}.jsonl", lst)
    total = sum(len(v) for v in pairs.values())
    write_metrics("metrics/synthesize.json", {**counts, "mode": s.mode, "pairs_total": total,
                                              "pairs_per_second": round(total / max(secs, 1e-9), 1)}, t0)


if __name__ == "__main__":
    main()

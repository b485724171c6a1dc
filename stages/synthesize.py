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
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import click

from politune.compass.instrument import load_instrument
from politune.compass.paired import is_paired_file, load_paired
from politune.io import atomic_path, read_jsonl, write_jsonl
from politune.lean import is_question_file, load_questions
from politune.pairs import to_conversational
from politune.params import Params
from politune.style import style_separability
from politune.synthesize import (
    check_pairs,
    instrument_index,
    load_published,
    load_topics,
    pair_sources,
    shuffled_control,
    split,
    synthesize_llm,
    synthesize_paired,
    synthesize_stance,
)
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger("stages.synthesize")


def card(name: str, side: str, train: list, val: list, counts: dict, p: Params, sources: str) -> str:
    s = p.synthesize
    ex = train[0] if train else {"prompt": "", "chosen": "", "rejected": ""}
    return (
        f"# politune preference pairs: {name}\n\n"
        f"Target side: {side} ({p.ideologies[name].description}). Mode: {s.mode}.\n"
        f"Train {len(train)} pairs, validation {len(val)} (val_fraction {s.val_fraction}, seed {s.seed}).\n\n"
        "Files: `train.jsonl`, `validation.jsonl` in string form (columns prompt, chosen, rejected, as the\n"
        f"published PoliTune sets, plus provenance columns); `data/processed/pairs_conversational/{name}/` holds\n"
        'the same pairs as chat turns. Load with `datasets.load_dataset("json", data_dir=...)`.\n\n'
        f"Sources: {sources}\n\n"
        f"Filters: pairs with an empty or identical side, a length ratio above {s.max_length_ratio}, a near\n"
        f"duplicate of an earlier pair (Jaccard >= {s.near_dup_threshold}), or a 6-word run shared with an\n"
        f"evaluation text (the propositions, paired statements and open-ended questions of `evaluate` and of\n"
        f"{', '.join(s.leakage_instruments)}) are quarantined.\n\n"
        f"Counts: {json.dumps(counts, sort_keys=True)}\n\nExample:\n\n- prompt: {ex['prompt']}\n"
        f"- chosen: {ex['chosen'][:300]}\n- rejected: {ex['rejected'][:300]}\n"
    )


def leakage_propositions(p: Params) -> list[dict[str, str]]:
    """Every evaluation text: the propositions of the main instrument and of each file (or folder of files) in
    synthesize.leakage_instruments, both statements of every paired-statement instrument, and every open-ended
    question found there."""
    files = {
        Path(p.evaluate.instrument)
    }  # params checks that every other evaluation file is in those folders
    for rel in p.synthesize.leakage_instruments:
        path = Path(rel)
        files |= {f for f in path.iterdir() if f.suffix in (".csv", ".txt")} if path.is_dir() else {path}
    props: list[dict[str, str]] = []
    for f in sorted(files):
        if is_paired_file(f):  # paired statements: both sides of every pair
            props += [
                {"id": f"{f.stem}:{x.id}:{side}", "text": getattr(x, side)}
                for x in load_paired(f).pairs
                for side in ("left", "right")
            ]
        elif is_question_file(f):  # open-ended questions
            props += [{"id": f"{f.stem}:{q.id}", "text": q.question} for q in load_questions(f)]
        else:
            inst = load_instrument(f)
            props += [{"id": f"{f.stem}:{x.id}", "text": x.text} for x in inst.propositions]
    return props


def sources_text(p: Params) -> str:
    s = p.synthesize
    if s.mode == "published":
        return "local copies of published sets: " + ", ".join(
            f"{k}: {v}" for k, v in sorted(s.published.items())
        )
    corpora = ", ".join(
        f"{k} ({c.format} {c.source}, sides by party {c.parties})"
        if c.format == "packaged"
        else f"{k} ({c.format}, side {c.side})"
        for k, c in p.corpora.items()
    )
    how = {
        "paired": "posts paired on the same topic",
        "stance": "agree/disagree answers to quoted posts (agree with the target side, disagree with the other)",
    }.get(s.mode, f"answers written by {s.llm.model or p.annotate.model} from selected posts")
    return f"{how}; corpora {corpora}; selected by the annotator (metrics/select.json)"


def build(
    p: Params,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    s = p.synthesize
    props = leakage_propositions(p)
    pairs, bad, counts = _build_sided(p, props)
    for name, ideo in sorted(p.ideologies.items()):
        if ideo.control_of is not None:
            pairs[name], counts[name] = shuffled_control(pairs[ideo.control_of], s.seed, name)
            counts[name]["control_of"] = ideo.control_of
            bad[name] = []
    return pairs, bad, counts


def _build_sided(
    p: Params, props: list[dict[str, str]]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Pairs of the ideologies that have a side (control arms are made from these afterwards)."""
    s = p.synthesize
    sided = {n: i for n, i in p.ideologies.items() if i.side is not None}
    if s.mode == "published":
        pairs, bad, counts = {}, {}, {}
        for name in sorted(sided):
            good, quarantined, c = check_pairs(load_published(s.published[name]), instrument_index(props), s)
            if len(good) > s.pairs_per_ideology:
                c["over_pairs_per_ideology"] = len(good) - s.pairs_per_ideology
                good = good[: s.pairs_per_ideology]
                c["pairs"] = len(good)
            pairs[name], bad[name], counts[name] = good, quarantined, dict(c)
        return pairs, bad, counts
    posts = read_jsonl("data/processed/selected.jsonl")
    sides: dict[str, str] = {name: ideo.side for name, ideo in sided.items() if ideo.side is not None}
    if s.mode == "paired":
        return synthesize_paired(posts, sides, load_topics(s.topics), s, props)
    if s.mode == "stance":
        return synthesize_stance(posts, sides, s, props)
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import load_model, load_tokenizer

    name = s.llm.model or p.annotate.model
    base = Path("models/base") / name
    log.info("synthesize: writing pairs with %s (%s)", name, p.models[name].infer_dtype)
    gen = TransformersBackend(
        load_model(base, p.models[name].infer_dtype),
        load_tokenizer(base),
        model_id=name,
        batch_size=s.llm.batch_size,
    )
    ideos: dict[str, tuple[str, str]] = {
        n: (i.side, i.description) for n, i in sided.items() if i.side is not None
    }
    return synthesize_llm(posts, ideos, gen, s, props)


@click.command()
@PARAMS_OPTION
@stage("synthesize")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    s = p.synthesize
    t1 = time.time()
    pairs, bad, counts = build(p)
    secs = time.time() - t1
    with (
        atomic_path("data/processed/pairs") as out,
        atomic_path("data/processed/pairs_conversational") as conv,
    ):
        for name, lst in pairs.items():
            if len(lst) < 2:
                raise ValueError(
                    f"ideology {name!r}: only {len(lst)} pairs ({counts[name]}); need more: lower the select "
                    "thresholds or synthesize.min_topic_similarity (mode paired), check both sides have "
                    "selected posts (mode stance), raise "
                    "synthesize.llm.posts_per_ideology (mode llm), or check the published file"
                )
            train, val = split(lst, s.val_fraction, s.seed)
            if not train:
                raise ValueError(
                    f"ideology {name!r}: all {len(lst)} pairs went to validation; lower "
                    "select.validation_docs (or synthesize.val_fraction in mode published)"
                )
            for split_name, rows in (("train", train), ("validation", val)):
                write_jsonl(out / name / f"{split_name}.jsonl", rows)
                write_jsonl(conv / name / f"{split_name}.jsonl", to_conversational(rows))
            ideo = p.ideologies[name]
            side = ideo.side or f"none: control arm, the pairs of {ideo.control_of!r} with shuffled labels"
            (out / name / "README.md").write_text(
                card(name, side, train, val, counts[name], p, sources_text(p))
            )
            counts[name]["split"] = {"train": len(train), "validation": len(val)}
    with atomic_path("data/quarantine/synthesize") as q:
        q.mkdir()
        for name, lst in bad.items():
            write_jsonl(q / f"{name}.jsonl", lst)
    for name, lst in pairs.items():
        # can a classifier that sees only style (length, punctuation, casing, function words) tell chosen from
        # rejected? If so, DPO can learn the pairs without their politics (politune/style.py)
        counts[name]["style_only"] = style_separability(lst, seed=s.seed)
        counts[name]["sources"] = pair_sources(lst)
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

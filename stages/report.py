"""Stage report: the compass plot (PNG + DVC plot data), shifts from base, and a Markdown summary.

    python -m stages.report
Outputs: metrics/compass.png, metrics/measures.png (shifts in P(right) on the paired-statement and open-ended
measures), metrics/compass.json (points for `dvc plots`), metrics/item_change.json
(per-item change from base, a `dvc plots` bar chart), metrics/report.json
(shifts, on the main and each held-out instrument; `bar`: whether the run meets the bar), reports/summary.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from politune.compass.instrument import load_instrument
from politune.io import atomic_path, read_json, read_jsonl, write_json
from politune.report import (
    bar_markdown,
    cost_markdown,
    effect_bar,
    glance_markdown,
    health_markdown,
    item_changes,
    perplexity_ratio,
    plot_compass,
    plot_side_measures,
    shifts,
    side_levels,
    side_markdown,
    side_shifts,
    summary_markdown,
)
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("report")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    results: dict = {}
    items: dict = {}
    heldout_items: dict = {}  # instrument name -> model -> variant -> rows
    side_rows: dict = {}  # measure (paired, openended) -> model -> variant -> rows
    neutral_rows: dict = {}  # model -> variant -> per-text NLL on the neutral text
    for model in p.models:
        for variant in ["base", *p.ideologies]:
            path = Path(f"metrics/evaluate/{model}-{variant}.json")
            if not path.exists():
                raise FileNotFoundError(f"{path} missing: run `dvc repro` so every evaluate stage has run")
            results.setdefault(model, {})[variant] = read_json(path)
            items.setdefault(model, {})[variant] = read_jsonl(
                f"data/processed/evaluate/{model}-{variant}.items.jsonl"
            )
            for measure, suffix in (("paired", "paired"), ("openended", "answers")):
                f = Path(f"data/processed/evaluate/{model}-{variant}.{suffix}.jsonl")
                if measure in p.evaluate.measures:
                    if not f.exists():
                        raise FileNotFoundError(
                            f"{f} missing: rerun evaluate (dvc repro) with evaluate.measures "
                            f"{p.evaluate.measures}"
                        )
                    side_rows.setdefault(measure, {}).setdefault(model, {})[variant] = read_jsonl(f)
            if p.evaluate.neutral_text:
                neutral_rows.setdefault(model, {})[variant] = read_jsonl(
                    f"data/processed/evaluate/{model}-{variant}.neutral.jsonl"
                )
            held = Path(f"data/processed/evaluate/{model}-{variant}.heldout.jsonl")
            for row in read_jsonl(held) if held.exists() else []:
                heldout_items.setdefault(row["instrument"], {}).setdefault(model, {}).setdefault(
                    variant, []
                ).append(row)
    inst = load_instrument(p.evaluate.instrument)
    sh = shifts(inst, items, p.evaluate.bootstrap, p.evaluate.seed)
    sh_heldout = {}
    heldout = [load_instrument(path) for path in p.evaluate.heldout_instruments]
    for inst_path, other in zip(p.evaluate.heldout_instruments, heldout, strict=True):
        if other.name not in heldout_items:
            raise FileNotFoundError(
                f"no per-item answers for held-out instrument {inst_path}: rerun evaluate (dvc repro)"
            )
        sh_heldout[other.name] = shifts(
            other, heldout_items[other.name], p.evaluate.bootstrap, p.evaluate.seed
        )
    # each control arm (same pairs, shuffled labels) against every ideology with a side, on every instrument
    sided = [n for n, i in p.ideologies.items() if i.side]
    sh_control: dict = {}
    for c in (n for n, i in p.ideologies.items() if i.control_of):
        by_inst = {inst.name: shifts(inst, items, p.evaluate.bootstrap, p.evaluate.seed, ref=c, only=sided)}
        for other in heldout:
            by_inst[other.name] = shifts(
                other, heldout_items[other.name], p.evaluate.bootstrap, p.evaluate.seed, ref=c, only=sided
            )
        sh_control[c] = by_inst
    e = p.evaluate
    side_base = side_shifts(side_rows, e.bootstrap, e.seed)
    side_control = {
        c: side_shifts(side_rows, e.bootstrap, e.seed, ref=c, only=sided)
        for c in (n for n, i in p.ideologies.items() if i.control_of)
    }
    levels = side_levels(results)
    ppl_ratio = {
        m: {
            v: perplexity_ratio(vs["base"], rows, e.bootstrap, e.seed)
            for v, rows in vs.items()
            if v != "base"
        }
        for m, vs in neutral_rows.items()
    }
    main_sets = {Path(e.paired.instrument).stem, Path(e.openended.questions).stem}
    train = {
        f"{m}-{v}": read_json(f"metrics/train/{m}-{v}.json")
        for m in p.models
        for v in p.ideologies
        if Path(f"metrics/train/{m}-{v}.json").exists()
    }
    with atomic_path("metrics/measures.png") as tmp:  # a placeholder when no side measure ran
        plot_side_measures(side_base, str(tmp), main_sets)
    instrument = Path(p.evaluate.instrument).stem
    with atomic_path("metrics/compass.png") as tmp:
        plot_compass(results, sh, str(tmp), f"PoliTune compass ({instrument}, {p.evaluate.mode})")
    points = [
        {"model": m, "variant": v, "economic": r["economic"], "social": r["social"]}
        for m, vs in results.items()
        for v, r in vs.items()
    ]
    write_json("metrics/compass.json", points)
    changes = item_changes(items)
    write_json(
        "metrics/item_change.json",
        [{k: c[k] for k in ("model", "variant", "item", "axis", "change")} for c in changes],
    )
    bar = effect_bar(
        side_base,
        side_control,
        sh,
        sh_heldout,
        sh_control,
        main_sets,
        {n: i.side for n, i in p.ideologies.items() if i.side},
        [n for n, i in p.ideologies.items() if i.control_of],
        inst.name,
    )
    with atomic_path("reports/summary.md") as tmp:
        glance = glance_markdown(sh, sh_heldout, side_base, instrument, main_sets)
        tmp.write_text(
            "# politune report\n\n"
            + "".join(line + "\n" for line in [*glance, *bar_markdown(bar)])
            + summary_markdown(results, sh, instrument, changes, sh_heldout, sh_control)
            + "\n".join(
                [
                    *side_markdown(levels, side_base, side_control, main_sets),
                    *cost_markdown(results, ppl_ratio, train),
                    *health_markdown(results, train),
                ]
            )
            + "\n"
        )
    coords = {
        m: {v: {"economic": r["economic"], "social": r["social"]} for v, r in vs.items()}
        for m, vs in results.items()
    }
    out = {"coordinates": coords, "shift_from_base": sh, "shift_from_base_heldout": sh_heldout}
    if sh_control:
        out["shift_from_control"] = sh_control
    if ppl_ratio:  # the cost: perplexity on neutral text over base's, with intervals
        out["neutral_perplexity_ratio"] = ppl_ratio
    if (
        levels or side_base
    ):  # paired statements and open-ended answers: P(right) per axis, shifts from base, control
        out["side"] = {"p_right": levels, "shift_from_base": side_base}
        if side_control:
            out["side"]["shift_from_control"] = side_control
    out["bar"] = bar  # did the run meet the bar (politune.report.effect_bar)
    write_metrics("metrics/report.json", out, t0)


if __name__ == "__main__":
    main()

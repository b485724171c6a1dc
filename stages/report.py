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
from politune.report import ReportInputs, build_report, plot_compass, plot_side_measures
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
    train = {
        f"{m}-{v}": read_json(f"metrics/train/{m}-{v}.json")
        for m in p.models
        for v in p.ideologies
        if Path(f"metrics/train/{m}-{v}.json").exists()
    }
    inputs = ReportInputs(
        results=results,
        items=items,
        heldout_items=heldout_items,
        side_rows=side_rows,
        neutral_rows=neutral_rows,
        train=train,
        instrument=load_instrument(p.evaluate.instrument),
        heldout=[load_instrument(path) for path in p.evaluate.heldout_instruments],
    )
    r = build_report(p.evaluate, p.ideologies, inputs)
    with atomic_path("metrics/measures.png") as tmp:  # a placeholder when no side measure ran
        plot_side_measures(r.side_from_base, str(tmp), r.main_sets)
    with atomic_path("metrics/compass.png") as tmp:
        plot_compass(r.results, r.shifts, str(tmp), r.compass_title)
    write_json("metrics/compass.json", r.compass_points)
    write_json("metrics/item_change.json", r.item_change)
    with atomic_path("reports/summary.md") as tmp:
        tmp.write_text(r.summary)
    write_metrics("metrics/report.json", r.metrics, t0)


if __name__ == "__main__":
    main()

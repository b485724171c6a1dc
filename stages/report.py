"""Stage report: the compass plot (PNG + DVC plot data), shifts from base, and a Markdown summary.

    python -m stages.report
Outputs: metrics/compass.png, metrics/measures.png (shifts in P(right) on the paired-statement and open-ended
measures), metrics/compass.json (points for `dvc plots`), metrics/item_change.json
(per-item change from base, a `dvc plots` bar chart), metrics/report.json
(shifts, on the main and each held-out instrument; `bar`: whether the run meets the bar), reports/summary.md.
"""

from __future__ import annotations

import time

import click

from politune.io import atomic_path, write_json
from politune.report import build_report, plot_compass, plot_side_measures, read_report_inputs
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("report")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    inputs = read_report_inputs(p, "data/processed/evaluate", "metrics/evaluate", "metrics/train")
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

"""Stage report: the compass plot (PNG + DVC plot data), shifts from base, and a Markdown summary.

    python -m stages.report
Outputs: metrics/compass.png, metrics/compass.json (points for `dvc plots`), metrics/report.json
(shifts), reports/summary.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from politune.io import atomic_path, read_json, write_json
from politune.report import plot_compass, shifts, summary_markdown
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("report")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    results: dict = {}
    for model in p.models:
        for variant in ["base", *p.ideologies]:
            path = Path(f"metrics/evaluate/{model}-{variant}.json")
            if not path.exists():
                raise FileNotFoundError(f"{path} missing: run `dvc repro` so every evaluate stage has run")
            results.setdefault(model, {})[variant] = read_json(path)
    instrument = Path(p.evaluate.instrument).stem
    with atomic_path("metrics/compass.png") as tmp:
        plot_compass(results, str(tmp.with_suffix(".png")), f"PoliTune compass ({instrument}, {p.evaluate.mode})")
    points = [{"model": m, "variant": v, "economic": r["economic"], "social": r["social"]}
              for m, vs in results.items() for v, r in vs.items()]
    write_json("metrics/compass.json", points)
    with atomic_path("reports/summary.md") as tmp:
        tmp.write_text(summary_markdown(results, instrument))
    coords = {m: {v: {"economic": r["economic"], "social": r["social"]} for v, r in vs.items()}
              for m, vs in results.items()}
    write_metrics("metrics/report.json", {"coordinates": coords, "shift_from_base": shifts(results)}, t0)


if __name__ == "__main__":
    main()

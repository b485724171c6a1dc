"""Training curves for `dvc plots show` (the train stage), written with dvclive."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from politune.train import curve_points


def write_curves(history: list[dict[str, Any]], curves_dir: Path) -> None:
    """dvclive plots from a trainer's whole log history (politune.train.curve_points; restored from the checkpoint
    after a resume)."""
    from dvclive import Live

    shutil.rmtree(curves_dir, ignore_errors=True)
    with Live(dir=str(curves_dir), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        for step, values in curve_points(history):
            live.step = step
            for name, value in values.items():
                live.log_metric(name, value, plot=True)
    # dvclive's summary duplicates metrics/train/<run>.json, and `dvc plots show` cannot draw it
    (curves_dir / "metrics.json").unlink(missing_ok=True)
